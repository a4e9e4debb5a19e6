"use strict";
// qinggan web console: talks only to the native API with the logged-in app's X-API-Key.
(function () {
  const T = {
    zh: {
      title: "情感分析控制台", logout: "退出", login: "登录", signIn: "登录",
      loginHint: "使用应用凭据（qinggan apps add NAME --json）登录；凭据只保存在本标签页。",
      appId: "应用 ID", secret: "密钥", tabTry: "试一试", tabTalk: "对话", tabJobs: "任务",
      textsLabel: "文本（每行一条）", judgements: "判断", polarity: "情感倾向", emotions: "客服情绪",
      dialogue: "对话情绪", classes: "情绪类别", scene: "场景", sceneDefault: "通用",
      sceneTalk: "闲聊", sceneTask: "任务", sceneCs: "客服", analyze: "分析", speaker: "说话人",
      customer: "客户", agent: "客服", turn: "这一轮", addTurn: "添加", clear: "清空", trend: "趋势",
      jobsHint: "粘贴 JSONL 消息导入本应用的消息存档，然后开始一个 WeCom 情感任务（明文消息）。",
      startJob: "开始任务", downloadJsonl: "下载 JSONL", jobRunning: "进行中", jobDone: "已完成",
      jobFailed: "失败", col_msgid: "消息 ID", col_sentiment: "情感", col_errcode: "错误码",
      col_errmsg: "说明", remain: "今日剩余调用：", unlimited: "不限",
      jsonl: "JSONL 消息", import: "导入", explain: "哪些字推动了结果（绿=正面，红=负面）",
      intensity: "强度", level1: "一级", level2: "二级", replies: "建议回复", flagged: "⚠ 高强度",
      badLogin: "凭据无效", signedIn: "已登录：", ms: "毫秒", badLine: "第 {n} 行不是 JSON",
      read: "读取", inserted: "新增", updated: "更新", unchanged: "未变", bad: "错误",
      turn_good: "好转", turn_bad: "变差", keep_smooth: "平稳", chartTitle: "每轮得分",
      tabExamples: "示例", examplesHint: "本应用的调用示例；签名按当前时间在浏览器里算出，5 分钟内有效。",
      exRefresh: "重新生成", copy: "复制", noSubtle: "此页面不是安全上下文（需 HTTPS 或本机），无法计算 sha256",
      exNative: "原生 API（情感倾向）", exJd: "京东 NeuHub（/jdai/sentiment）",
      exJumdata: "聚美数据（情感倾向分析）", exIflytek: "讯飞（/v1/sa）", exWecom: "企业微信（会话存档情感任务）",
    },
    en: {
      title: "Sentiment console", logout: "Sign out", login: "Sign in", signIn: "Sign in",
      loginHint: "Sign in with app credentials (qinggan apps add NAME --json); they stay in this tab only.",
      appId: "App ID", secret: "Secret", tabTry: "Try it", tabTalk: "Conversation", tabJobs: "Jobs",
      textsLabel: "Texts (one per line)", judgements: "Judgements", polarity: "Polarity",
      emotions: "Emotions", dialogue: "Dialogue emotion", classes: "Emotion classes", scene: "Scene",
      sceneDefault: "Default", sceneTalk: "Chit-chat", sceneTask: "Task", sceneCs: "Customer service",
      analyze: "Analyze", speaker: "Speaker", customer: "Customer", agent: "Agent", turn: "Turn",
      addTurn: "Add", clear: "Clear", trend: "Trend",
      jobsHint: "Paste JSONL messages to import them into this app's archive, then start a WeCom sentiment job (plaintext messages).",
      startJob: "Start job", downloadJsonl: "Download JSONL", jobRunning: "running", jobDone: "done",
      jobFailed: "failed", col_msgid: "Message ID", col_sentiment: "Sentiment", col_errcode: "Error code",
      col_errmsg: "Message", remain: "Calls left today: ", unlimited: "unlimited",
      jsonl: "JSONL messages", import: "Import", explain: "Which characters pushed the result (green = positive, red = negative)",
      intensity: "Intensity", level1: "Level 1", level2: "Level 2", replies: "Suggested replies",
      flagged: "⚠ high intensity", badLogin: "Invalid credentials", signedIn: "Signed in: ",
      ms: "ms", badLine: "line {n} is not JSON", read: "read", inserted: "inserted",
      updated: "updated", unchanged: "unchanged", bad: "bad",
      turn_good: "turning good", turn_bad: "turning bad", keep_smooth: "steady", chartTitle: "per-turn score",
      tabExamples: "Examples", examplesHint: "Calls for this app; signatures are computed in the browser for the current time and stay valid for 5 minutes.",
      exRefresh: "Regenerate", copy: "Copy", noSubtle: "This page is not a secure context (HTTPS or loopback needed) so sha256 is unavailable",
      exNative: "Native API (polarity)", exJd: "JD NeuHub (/jdai/sentiment)",
      exJumdata: "Jumdata (sentiment analysis)", exIflytek: "iFlytek (/v1/sa)", exWecom: "WeCom (archive sentiment job)",
    },
  };
  const KEY = "qinggan.console.key";
  const LANG = "qinggan.console.lang";
  const MAX_TURNS = 100;
  let lang = localStorage.getItem(LANG) || (navigator.language.startsWith("zh") ? "zh" : "en");
  const $ = (id) => document.getElementById(id);
  const t = (k) => (T[lang] && T[lang][k]) || T.en[k] || k;
  const turns = [];

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const kid of kids) node.append(kid);
    return node;
  }

  function applyLang() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    $("lang").textContent = lang === "zh" ? "EN" : "中文";
    $("chart-title").textContent = t("chartTitle");
    document.title = t("title") + " · qinggan";
    const key = sessionStorage.getItem(KEY);
    $("who").textContent = key ? t("signedIn") + key.split(":")[0] : "";
    showUsage();
  }

  async function api(path, body) {
    const key = sessionStorage.getItem(KEY) || "";
    const r = await fetch("/api/v1/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (data.usage && "remain" in data.usage) showUsage(data.usage.remain);
    if (r.status === 401) { signOut(t("badLogin")); }
    if (!r.ok) throw new Error((data.error && data.error.message) || "HTTP " + r.status);
    return data;
  }

  let remain;
  function showUsage(value) {
    if (value !== undefined) remain = value;
    const box = $("usage");
    box.hidden = remain === undefined || !sessionStorage.getItem(KEY);
    if (remain === undefined) return;
    box.dataset.remain = remain === null ? "" : String(remain);
    box.textContent = t("remain") + (remain === null ? t("unlimited") : String(remain));
  }

  function showApp(on) {
    $("login").hidden = on; $("app").hidden = !on; $("logout").hidden = !on; applyLang();
  }
  function signOut(message) {
    sessionStorage.removeItem(KEY); remain = undefined; showApp(false); $("login-error").textContent = message || "";
  }

  async function signIn(ev) {
    ev.preventDefault();
    const key = $("app-id").value.trim() + ":" + $("secret").value;
    sessionStorage.setItem(KEY, key);
    $("login-error").textContent = "";
    try {
      await api("polarity", { text: "你好" }); // checks the credentials (one call)
      $("secret").value = "";
      showApp(true);
      $("texts").focus();
    } catch (e) {
      sessionStorage.removeItem(KEY);
      $("login-error").textContent = e.message;
    }
  }

  function selectTab(id) {
    for (const tab of document.querySelectorAll("[role=tab]")) {
      const on = tab.id === id;
      tab.setAttribute("aria-selected", String(on));
      $(tab.getAttribute("aria-controls")).hidden = !on;
    }
  }

  function bars(probs, cls) {
    const list = el("ul", { class: "bars" });
    const entries = Object.entries(probs).sort((a, b) => b[1] - a[1]);
    for (const [label, p] of entries) {
      const fill = el("div", { class: "fill " + (cls ? label : "") });
      fill.style.width = (p * 100).toFixed(1) + "%";
      const track = el("div", { class: "track", role: "meter", "aria-label": label,
        "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": p.toFixed(3) }, fill);
      list.append(el("li", { "data-label": label }, el("span", {}, label), track,
        el("span", {}, (p * 100).toFixed(1) + "%")));
    }
    return list;
  }

  function explained(ex) {
    const box = el("p", { class: "explained", "aria-label": t("explain") });
    const peak = Math.max(1e-9, ...ex.units.map((u) => Math.abs(u.score)));
    for (const u of ex.units) {
      const span = el("span", { class: "unit", "data-score": String(u.score),
        title: u.unit + " " + (u.score >= 0 ? "+" : "") + u.score.toFixed(3) }, u.unit);
      const a = Math.min(1, Math.abs(u.score) / peak) * 0.75;
      span.style.backgroundColor = u.score >= 0
        ? "rgba(31,157,85," + a.toFixed(3) + ")" : "rgba(214,69,69," + a.toFixed(3) + ")";
      box.append(span);
    }
    return box;
  }

  async function analyze(ev) {
    ev.preventDefault();
    $("try-error").textContent = "";
    const texts = $("texts").value.split("\n").map((s) => s.trim()).filter(Boolean).slice(0, 100);
    if (!texts.length) return;
    const started = performance.now();
    const calls = [api("explain", { texts })];
    calls.push($("j-polarity").checked ? api("polarity", { texts }) : null);
    calls.push($("j-emotions").checked
      ? api("emotions", { texts, classes: Number($("classes").value) }) : null);
    calls.push($("j-dialogue").checked
      ? api("dialogue-emotion", { texts, scene: $("scene").value }) : null);
    let answers;
    try { answers = await Promise.all(calls); } catch (e) { $("try-error").textContent = e.message; return; }
    const [ex, pol, emo, dia] = answers;
    const out = $("results");
    out.replaceChildren();
    texts.forEach((text, i) => {
      const card = el("article", { class: "result", "data-index": String(i) });
      const e = ex.results[i];
      card.append(e.error ? el("p", { class: "error" }, e.error) : explained(e));
      const grid = el("div", { class: "grid" });
      if (pol) {
        const r = pol.results[i];
        grid.append(el("div", { class: "polarity" }, el("h3", {}, t("polarity") + " ",
          el("span", { class: "tag label " + (r.label || "") }, r.label || r.error || "")),
          r.probabilities ? bars(r.probabilities, true) : ""));
      }
      if (emo) {
        const r = emo.results[i];
        const box = el("div", { class: "emotions" }, el("h3", {}, t("emotions") + " ",
          el("span", { class: "tag label" }, r.label || r.error || "")));
        if (r.probabilities) box.append(bars(r.probabilities));
        if (r.intensity && r.intensity.length) {
          const top = r.intensity[0];
          box.append(el("p", { class: "intensity" }, t("intensity") + ": " + top.degree +
            " (" + (top.probability * 100).toFixed(0) + "%)"));
        }
        grid.append(box);
      }
      if (dia) {
        const r = dia.results[i];
        const box = el("div", { class: "dialogue" }, el("h3", {}, t("dialogue")));
        if (r.level1) {
          box.append(el("p", {}, t("level1") + ": ", el("span", { class: "tag label" }, r.level1),
            " " + t("level2") + ": ", el("span", { class: "tag label" }, r.level2)));
          box.append(bars(r.level2_probabilities));
          if (r.replies && r.replies.length) {
            box.append(el("p", {}, t("replies")),
              el("ul", { class: "replies" }, ...r.replies.map((x) => el("li", {}, x))));
          }
        } else box.append(el("p", { class: "error" }, r.error || ""));
        grid.append(box);
      }
      card.append(grid);
      out.append(card);
    });
    out.dataset.ms = String(Math.round(performance.now() - started));
  }

  function drawChart(scored) {
    const svg = $("chart");
    const ns = "http://www.w3.org/2000/svg";
    const title = $("chart-title");
    svg.replaceChildren(title);
    const W = 600, H = 200, pad = 16;
    const mid = document.createElementNS(ns, "line");
    for (const [k, v] of [["x1", 0], ["x2", W], ["y1", H / 2], ["y2", H / 2], ["class", "axis"]]) {
      mid.setAttribute(k, String(v));
    }
    svg.append(mid);
    const n = scored.length;
    const xy = scored.map((s, i) => [
      n === 1 ? W / 2 : pad + (i * (W - 2 * pad)) / (n - 1),
      H / 2 - Math.max(-1, Math.min(1, s.score)) * (H / 2 - pad),
    ]);
    if (n > 1) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", xy.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" "));
      svg.append(line);
    }
    scored.forEach((s, i) => {
      const c = document.createElementNS(ns, "circle");
      c.setAttribute("cx", xy[i][0].toFixed(1)); c.setAttribute("cy", xy[i][1].toFixed(1));
      c.setAttribute("r", "5");
      c.setAttribute("class", "point" + (s.counted ? "" : " staff") + (turns[i].flag ? " flag" : ""));
      const tip = document.createElementNS(ns, "title");
      tip.textContent = (i + 1) + ". " + (s.speaker || "") + ": " + s.score.toFixed(3);
      c.append(tip);
      svg.append(c);
    });
  }

  function listTurns(scored) {
    $("turns").replaceChildren(...turns.map((turn, i) => {
      const s = scored && scored[i];
      const item = el("li", { "data-speaker": turn.speaker },
        turn.speaker + ": " + turn.text + (s ? " (" + s.score.toFixed(2) + ")" : ""));
      if (turn.flag) item.append(" ", el("span", { class: "flag" }, t("flagged") + " " + turn.flag));
      return item;
    }));
  }

  async function addTurn(ev) {
    ev.preventDefault();
    $("talk-error").textContent = "";
    const text = $("turn-text").value.trim();
    if (!text) return;
    const turn = { speaker: $("speaker").value, text: text, flag: "" };
    turns.push(turn);
    $("turn-text").value = "";
    try {
      const customer = turn.speaker === "客户";
      const [trend, emo] = await Promise.all([
        turns.some((x) => x.speaker === "客户")
          ? api("trend", { turns: turns.slice(-MAX_TURNS).map((x) => ({ text: x.text, speaker: x.speaker })) })
          : null,
        customer ? api("emotions", { text: text, classes: 7 }) : null,
      ]);
      if (emo) {
        const r = emo.result;
        const top = r.intensity && r.intensity.length ? r.intensity[0] : null;
        if ((r.label === "anger" || r.label === "anxiety") && top && top.degree === 3) {
          turn.flag = r.label;
        }
      }
      if (trend) {
        const res = trend.result;
        const offset = turns.length - res.turns.length;
        const scored = turns.map((x, i) => res.turns[i - offset] || { score: 0, counted: false, speaker: x.speaker });
        $("trend-label").textContent = t(res.label) + " (" + res.label + ")";
        $("trend-label").dataset.label = res.label;
        drawChart(scored);
        listTurns(scored);
      } else listTurns(null);
    } catch (e) { $("talk-error").textContent = e.message; }
    $("turn-text").focus();
  }

  function clearTurns() {
    turns.length = 0; listTurns(null); drawChart([]);
    $("trend-label").textContent = "—"; delete $("trend-label").dataset.label;
  }

  async function importJsonl(ev) {
    ev.preventDefault();
    $("jobs-error").textContent = "";
    const messages = [];
    const lines = $("jsonl").value.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      try { messages.push(JSON.parse(lines[i])); } catch (e) {
        $("jobs-error").textContent = t("badLine").replace("{n}", String(i + 1)); return;
      }
    }
    try {
      const r = await api("archive/import", { messages });
      const head = el("tr", {}), row = el("tr", {});
      for (const k of ["read", "inserted", "updated", "unchanged", "bad"]) {
        head.append(el("th", { scope: "col" }, t(k))); row.append(el("td", { "data-k": k }, String(r[k])));
      }
      const problems = el("ul", {}, ...r.problems.map((p) => el("li", {}, "#" + p.index + " " + p.kind + ": " + p.error)));
      $("import-result").replaceChildren(el("table", {}, head, row), problems);
      const seen = new Set(messages.map((m) => m && m.msgid).filter((x) => typeof x === "string" && x.trim()));
      importedIds = [...seen].slice(0, 1000);
      $("job-box").hidden = importedIds.length === 0;
      $("job-progress").textContent = ""; $("job-results").replaceChildren(); $("job-download").hidden = true;
    } catch (e) { $("jobs-error").textContent = e.message; }
  }

  // -- examples: ready-to-copy calls of the native API and the vendor dialects ----------------
  // md5 (RFC 1321) over the UTF-8 bytes of a string; WebCrypto has no md5.
  function md5(str) {
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
  window.__qinggan_md5 = md5; // for the browser tests
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
    const [appId, ...rest] = (sessionStorage.getItem(KEY) || "").split(":");
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

  // -- jobs: a WeCom sentiment task over the imported messages ---------------------------------
  let importedIds = [];
  let jobTimer = null;
  async function wecom(path, body, token) {
    const r = body === undefined
      ? await fetch("/cgi-bin/" + path)
      : await fetch("/cgi-bin/chatdata/" + path + "?access_token=" + encodeURIComponent(token), {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({ errcode: -1, errmsg: "HTTP " + r.status }));
    if (data.errcode !== 0) throw new Error(data.errcode + " " + data.errmsg);
    return data;
  }
  const SENTIMENTS = { 0: "none", 1: "positive", 2: "negative" };
  function showJob(data) {
    const items = data.analyze_result_list || [];
    const done = items.filter((x) => x.errcode !== 0 || x.sentiment_result !== undefined).length;
    const state = data.status === 1 ? t("jobDone") : data.status === 2 ? t("jobFailed") : t("jobRunning");
    const progress = $("job-progress");
    progress.textContent = state + " " + done + "/" + items.length;
    progress.dataset.done = String(done); progress.dataset.total = String(items.length);
    progress.dataset.status = String(data.status);
    const head = el("tr", {}, ...["msgid", "sentiment", "errcode", "errmsg"].map(
      (k) => el("th", { scope: "col" }, t("col_" + k))));
    const rows = items.map((x) => el("tr", { "data-msgid": x.msgid }, el("td", {}, x.msgid),
      el("td", { "data-k": "sentiment" }, x.sentiment_result === undefined ? "…"
        : SENTIMENTS[x.sentiment_result] || String(x.sentiment_result)),
      el("td", {}, String(x.errcode)), el("td", {}, x.errmsg || "")));
    $("job-results").replaceChildren(el("table", {}, head, ...rows));
    if (data.status !== 0) {
      const link = $("job-download");
      if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
      const lines = items.map((x) => JSON.stringify(x)).join("\n") + "\n";
      link.href = URL.createObjectURL(new Blob([lines], { type: "application/x-ndjson" }));
      link.hidden = false;
    }
  }
  async function startJob() {
    $("jobs-error").textContent = "";
    if (jobTimer) clearTimeout(jobTimer);
    $("job-download").hidden = true;
    $("start-job").disabled = true;
    const [appId, ...rest] = (sessionStorage.getItem(KEY) || "").split(":");
    try {
      const tok = await wecom("gettoken?" + q({ corpid: appId, corpsecret: rest.join(":") }));
      const token = tok.access_token;
      const task = await wecom("create_sentiment_task", {
        msg_list: importedIds.map((msgid) => ({ msgid, encrypt_info: { secret_key: "" } })) }, token);
      $("job-progress").dataset.jobid = task.jobid;
      const poll = async () => {
        try {
          const data = await wecom("get_sentiment_result", { jobid: task.jobid }, token);
          showJob(data);
          if (data.status === 0) jobTimer = setTimeout(poll, 500);
          else $("start-job").disabled = false;
        } catch (e) { $("jobs-error").textContent = e.message; $("start-job").disabled = false; }
      };
      await poll();
    } catch (e) { $("jobs-error").textContent = e.message; $("start-job").disabled = false; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("lang").addEventListener("click", () => {
      lang = lang === "zh" ? "en" : "zh"; localStorage.setItem(LANG, lang); applyLang();
    });
    $("logout").addEventListener("click", () => signOut(""));
    $("login-form").addEventListener("submit", signIn);
    $("try-form").addEventListener("submit", analyze);
    $("turn-form").addEventListener("submit", addTurn);
    $("clear-turns").addEventListener("click", clearTurns);
    $("import-form").addEventListener("submit", importJsonl);
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => selectTab(tab.id));
    }
    $("tab-examples").addEventListener("click", showExamples);
    $("ex-refresh").addEventListener("click", showExamples);
    $("start-job").addEventListener("click", startJob);
    $("jsonl").placeholder = '{"msgid": "M1", "msgtype": "text", "content": "谢谢，问题解决了", "conversation_id": "c1", "sender": "zhangsan", "msgtime": 1700000000}';
    showApp(Boolean(sessionStorage.getItem(KEY)));
  });
})();
