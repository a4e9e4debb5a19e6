// The Examples tab: ready-to-copy calls of the native API and the vendor dialects for this app,
// signed in the browser for the current time.
import { $, el, session, t } from "./core.js";

// md5 (RFC 1321) over the UTF-8 bytes of a string; WebCrypto has no md5.
export function md5(str) {
  const bytes = new TextEncoder().encode(str);
  const n = bytes.length;
  const words = new Uint32Array((((n + 8) >>> 6) + 1) * 16);
  for (let i = 0; i < n; i++) words[i >> 2] |= bytes[i] << ((i % 4) * 8);
  words[n >> 2] |= 0x80 << ((n % 4) * 8);
  words[words.length - 2] = (n * 8) >>> 0;
  words[words.length - 1] = Math.floor(n / 0x20000000);
  const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  const K = [];
  for (let i = 0; i < 64; i++) K.push(Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0);
  let a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
  for (let o = 0; o < words.length; o += 16) {
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f, g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const s = S[(i >> 4) * 4 + (i % 4)];
      const x = (a + f + K[i] + words[o + g]) | 0;
      a = d; d = c; c = b;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
  }
  let hex = "";
  for (const v of [a0, b0, c0, d0]) {
    for (let i = 0; i < 4; i++) hex += ((v >>> (i * 8)) & 255).toString(16).padStart(2, "0");
  }
  return hex;
}
async function sha256(str) {
  if (!window.crypto || !crypto.subtle) throw new Error(t("noSubtle"));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(str));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
const sh = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
const py = (v) => JSON.stringify(v);
const q = (o) => Object.entries(o).map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");
const curl = (url, args) => ["curl -sS -X POST " + sh(url), ...args].join(" \\\n  ");
const PY_HEAD = "import json\nimport urllib.parse\nimport urllib.request\n\n";
function pyPost(url, data, headers) {
  return PY_HEAD + "req = urllib.request.Request(\n    " + py(url) + ",\n    data=" + data +
    ",\n    headers=" + py(headers) + ",\n)\nprint(json.load(urllib.request.urlopen(req)))\n";
}

async function buildExamples() {
  const [appId, ...rest] = (session.appKey() || "").split(":");
  const secret = rest.join(":");
  const base = location.origin;
  const text = "服务很好，非常满意";
  const json = { "Content-Type": "application/json" };
  const form = { "Content-Type": "application/x-www-form-urlencoded" };
  const out = [];
  const nativeUrl = base + "/api/v1/polarity";
  const nativeKey = { ...json, "X-API-Key": appId + ":" + secret };
  out.push(["native", t("exNative"), curl(nativeUrl, [
    "-H " + sh("Content-Type: application/json"), "-H " + sh("X-API-Key: " + appId + ":" + secret),
    "-d " + sh(JSON.stringify({ text }))]),
    pyPost(nativeUrl, "json.dumps(" + py({ text }) + ").encode()", nativeKey)]);
  const ms = String(Date.now());
  const jdUrl = base + "/jdai/sentiment?" + q({ appkey: appId, timestamp: ms, sign: md5(secret + ms) });
  const jdBody = { type: 1, text };
  out.push(["jd", t("exJd"), curl(jdUrl, ["-H " + sh("Content-Type: application/json"),
    "-d " + sh(JSON.stringify(jdBody))]),
    pyPost(jdUrl, "json.dumps(" + py(jdBody) + ").encode()", json)]);
  const jmFields = { appId, timestamp: ms, sign: await sha256(appId + secret + ms), text };
  const jmUrl = base + "/text-analysi/sentiment/analysis";
  out.push(["jumdata", t("exJumdata"), curl(jmUrl,
    Object.entries(jmFields).map(([k, v]) => "--data-urlencode " + sh(k + "=" + v))),
    pyPost(jmUrl, "urllib.parse.urlencode(" + py(jmFields) + ").encode()", form)]);
  const cur = String(Math.floor(Date.now() / 1000));
  const param = btoa(JSON.stringify({ type: "dependent" }));
  const ifHeaders = { ...form, "X-Appid": appId, "X-CurTime": cur, "X-Param": param,
    "X-CheckSum": md5(secret + cur + param) };
  const ifUrl = base + "/v1/sa";
  out.push(["iflytek", t("exIflytek"), curl(ifUrl, [
    ...Object.entries(ifHeaders).map(([k, v]) => "-H " + sh(k + ": " + v)),
    "--data-urlencode " + sh("text=" + text)]),
    pyPost(ifUrl, "urllib.parse.urlencode(" + py({ text }) + ").encode()", ifHeaders)]);
  const tokenUrl = base + "/cgi-bin/gettoken?" + q({ corpid: appId, corpsecret: secret });
  const task = { msg_list: [{ msgid: "M1", encrypt_info: { secret_key: "" } }] };
  const wcCurl = [
    "TOKEN=$(curl -sS " + sh(tokenUrl) +
      " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
    "JOB=$(" + curl(base + "/cgi-bin/chatdata/create_sentiment_task?access_token=", []) +
      "\"$TOKEN\" -d " + sh(JSON.stringify(task)) +
      " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"jobid\"])')",
    curl(base + "/cgi-bin/chatdata/get_sentiment_result?access_token=", []) +
      "\"$TOKEN\" -d \"{\\\"jobid\\\": \\\"$JOB\\\"}\"",
  ].join("\n");
  const wcPy = PY_HEAD + "BASE = " + py(base) + "\n" +
    "token = json.load(urllib.request.urlopen(BASE + " + py("/cgi-bin/gettoken?" +
      q({ corpid: appId, corpsecret: secret })) + "))[\"access_token\"]\n\n\n" +
    "def post(path, body):\n" +
    "    url = f\"{BASE}/cgi-bin/chatdata/{path}?access_token={token}\"\n" +
    "    data = json.dumps(body).encode()\n" +
    "    req = urllib.request.Request(url, data=data, headers=" + py(json) + ")\n" +
    "    return json.load(urllib.request.urlopen(req))\n\n\n" +
    "job = post(\"create_sentiment_task\", " + py(task) + ")\n" +
    "print(post(\"get_sentiment_result\", {\"jobid\": job[\"jobid\"]}))\n";
  out.push(["wecom", t("exWecom"), wcCurl, wcPy]);
  return out;
}

async function showExamples() {
  $("ex-error").textContent = "";
  let examples;
  try { examples = await buildExamples(); } catch (e) { $("ex-error").textContent = e.message; return; }
  $("ex-list").replaceChildren(...examples.map(([id, title, curlText, pyText]) => {
    const box = el("article", { class: "example", id: "ex-" + id }, el("h3", {}, title));
    for (const [kind, code] of [["curl", curlText], ["python", pyText]]) {
      const pre = el("pre", { id: "ex-" + id + "-" + kind, tabindex: "0",
        "aria-label": title + " · " + kind }, code);
      const copy = el("button", { type: "button", class: "ghost copy",
        "aria-label": t("copy") + " " + title + " " + kind }, t("copy") + " " + kind);
      copy.addEventListener("click", () => {
        if (navigator.clipboard) navigator.clipboard.writeText(code).catch(() => {});
      });
      box.append(copy, pre);
    }
    return box;
  }));
  $("ex-list").dataset.at = String(Date.now());
}

/** Wire the tab (once, when its module is first loaded). */
export function setup() {
  $("ex-refresh").addEventListener("click", showExamples);
}

/** The tab opens: sign fresh examples. */
export function open() { return showExamples(); }

export function reset() { $("ex-list").replaceChildren(); }
