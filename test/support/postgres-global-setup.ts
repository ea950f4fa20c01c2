import pg from 'pg';
import { startThrowawayCluster } from './postgres-cluster.ts';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export default async function setup(project: TestProject) {
  let url: string | null = process.env.TEST_DATABASE_URL || null;
  let stop: (() => void) | undefined;
  if (url && !(await reachable(url))) throw new Error(`TEST_DATABASE_URL=${url} is not reachable; start PostgreSQL or unset it.`);
  if (!url && (await reachable('postgres://postgres@127.0.0.1:5432/postgres'))) url = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!url) {
    const cluster = await startThrowawayCluster().catch((e) => {
      console.warn(`could not start a throwaway PostgreSQL cluster: ${e.message}`);
      return null;
    });
    if (cluster) {
      url = cluster.url;
      stop = cluster.stop;
    }
  }
  if (!url) {
    const banner = '\n*** PostgreSQL NOT AVAILABLE: the PostgreSQL half of the suite DID NOT RUN. Set TEST_DATABASE_URL or install PostgreSQL. ***\n';
    if (process.env.LETHE_REQUIRE_PG === '1') throw new Error(banner);
    console.warn(banner);
  }
  project.provide('pgUrl', url);
  return () => stop?.();
}
