// A small HTTP load generator run as its own process, so the server under test has its core to itself.
// argv: url, duration seconds, concurrency, headers JSON[, warm-up seconds]; bodies are generated per
// request (unique emails). Requests of the warm-up (connections opening, the server compiling its
// code paths) are sent but not counted.
const [url, seconds, concurrency, headersJson, warmupArg] = process.argv.slice(2);
const headers = { 'content-type': 'application/json', ...JSON.parse(headersJson) };
const measuredFrom = Date.now() + Number(warmupArg ?? 0) * 1000;
const deadline = measuredFrom + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
let n = 0;
const latencies = [];
async function lane(lane) {
  while (Date.now() < deadline) {
    const i = n++;
    const body = JSON.stringify({ firstName: 'Zoë', lastName: `Bench-${lane}`, email: `bench${i}.${process.pid}@example.org`, mobilePhone: '+33612345678', visibility: 'everyone' });
    const counted = Date.now() >= measuredFrom;
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (counted) latencies.push(performance.now() - t);
    if (res.status === 201 || res.status === 200) ok += counted ? 1 : 0;
    else if (failed++ < 3) console.error(`status ${res.status}: ${await res.text().catch(() => '')}`);
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => lane(i)));
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ ok, failed, rps: ok / Number(seconds), p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] }));
