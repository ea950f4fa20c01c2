// A small HTTP load generator run as its own process, so the server under test has its core to itself.
// argv: url, duration seconds, concurrency, headers JSON; bodies are generated per request (unique emails).
const [url, seconds, concurrency, headersJson] = process.argv.slice(2);
const headers = { 'content-type': 'application/json', ...JSON.parse(headersJson) };
const deadline = Date.now() + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
let n = 0;
const latencies = [];
async function lane(lane) {
  while (Date.now() < deadline) {
    const i = n++;
    const body = JSON.stringify({ firstName: 'Zoë', lastName: `Bench-${lane}`, email: `bench${i}.${process.pid}@example.org`, mobilePhone: '+33612345678', visibility: 'everyone' });
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    latencies.push(performance.now() - t);
    if (res.status === 201 || res.status === 200) ok++;
    else if (failed++ < 3) console.error(`status ${res.status}: ${await res.text().catch(() => '')}`);
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => lane(i)));
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ ok, failed, rps: ok / Number(seconds), p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] }));
