// Load for the public apply endpoint, run as its own process (see loadgen.mjs): argv url, seconds,
// concurrency[, rate[, warm-up seconds]]. Requests of the warm-up (connections opening, the server's
// first calls of each code path being compiled) are sent on the same schedule but not counted.
// (autocannon's rate limit sends each second's requests in a burst, which measures the burst, not
// 100 connections each applying once a second; hence this client.) One applicant in ten applies again with the same email (the rule attaches the
// application to their profile); the others are new people.
// Without a rate each connection sends its next request as soon as the last one is answered (closed
// loop: it measures saturation). With a rate (requests/s over all connections) requests leave on a
// fixed schedule and latency counts from the scheduled time, so a slow answer is not hidden by the
// requests it delayed (no coordinated omission).
const [url, seconds, concurrency, rateArg, warmupArg] = process.argv.slice(2);
const rate = rateArg ? Number(rateArg) : 0;
const start = Date.now();
const headers = { 'content-type': 'application/json' };
const measuredFrom = start + Number(warmupArg ?? 0) * 1000;
const deadline = measuredFrom + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
let n = 0;
const latencies = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function lane(lane) {
  for (let k = 0; ; k++) {
    const scheduled = rate ? start + ((k * Number(concurrency) + lane) / rate) * 1000 : Date.now();
    if (scheduled >= deadline) break;
    if (rate && scheduled > Date.now()) await sleep(scheduled - Date.now());
    const i = n++;
    const person = i % 10 === 9 && i > 100 ? i - 97 : i;
    const body = JSON.stringify({
      firstName: 'Zoë',
      lastName: `Applicant-${person}`,
      email: `applicant${person}.${process.pid}@example.org`,
      mobilePhone: `+1646${String(2_000_000 + (person % 7_000_000)).padStart(7, '0')}`,
    });
    const counted = (rate ? scheduled : Date.now()) >= measuredFrom;
    const t = performance.now() - (rate ? Math.max(0, Date.now() - scheduled) : 0);
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (counted) latencies.push(performance.now() - t);
    if (res.status === 201 || res.status === 202) ok += counted ? 1 : 0;
    else if (failed++ < 3) console.error(`lane ${lane}: status ${res.status}: ${await res.text().catch(() => '')}`);
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => lane(i)));
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ ok, failed, rps: ok / Number(seconds), p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] }));
