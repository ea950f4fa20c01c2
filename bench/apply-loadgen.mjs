// Load for the public apply endpoint, run as its own process (see loadgen.mjs): argv url, seconds,
// concurrency. One applicant in ten applies again with the same email (the rule attaches the
// application to their profile); the others are new people.
const [url, seconds, concurrency] = process.argv.slice(2);
const headers = { 'content-type': 'application/json' };
const deadline = Date.now() + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
let n = 0;
const latencies = [];
async function lane(lane) {
  while (Date.now() < deadline) {
    const i = n++;
    const person = i % 10 === 9 && i > 100 ? i - 97 : i;
    const body = JSON.stringify({
      firstName: 'Zoë',
      lastName: `Applicant-${person}`,
      email: `applicant${person}.${process.pid}@example.org`,
      mobilePhone: `+1646${String(2_000_000 + (person % 7_000_000)).padStart(7, '0')}`,
    });
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    latencies.push(performance.now() - t);
    if (res.status === 201 || res.status === 202) ok++;
    else if (failed++ < 3) console.error(`lane ${lane}: status ${res.status}: ${await res.text().catch(() => '')}`);
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => lane(i)));
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ ok, failed, rps: ok / Number(seconds), p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] }));
