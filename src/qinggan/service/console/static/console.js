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
      jobsHint: "粘贴 JSONL 消息导入本应用的消息存档（WeCom 任务读取它）。创建任务需要 WeCom 令牌，本页暂不提供。",
      jsonl: "JSONL 消息", import: "导入", explain: "哪些字推动了结果（绿=正面，红=负面）",
      intensity: "强度", level1: "一级", level2: "二级", replies: "建议回复", flagged: "⚠ 高强度",
      badLogin: "凭据无效", signedIn: "已登录：", ms: "毫秒", badLine: "第 {n} 行不是 JSON",
      read: "读取", inserted: "新增", updated: "更新", unchanged: "未变", bad: "错误",
      turn_good: "好转", turn_bad: "变差", keep_smooth: "平稳", chartTitle: "每轮得分",
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
      jobsHint: "Paste JSONL messages to import them into this app's archive (read by WeCom jobs). Creating a task needs a WeCom token and is not offered here yet.",
      jsonl: "JSONL messages", import: "Import", explain: "Which characters pushed the result (green = positive, red = negative)",
      intensity: "Intensity", level1: "Level 1", level2: "Level 2", replies: "Suggested replies",
      flagged: "⚠ high intensity", badLogin: "Invalid credentials", signedIn: "Signed in: ",
      ms: "ms", badLine: "line {n} is not JSON", read: "read", inserted: "inserted",
      updated: "updated", unchanged: "unchanged", bad: "bad",
      turn_good: "turning good", turn_bad: "turning bad", keep_smooth: "steady", chartTitle: "per-turn score",
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
  }

  async function api(path, body) {
    const key = sessionStorage.getItem(KEY) || "";
    const r = await fetch("/api/v1/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (r.status === 401) { signOut(t("badLogin")); }
    if (!r.ok) throw new Error((data.error && data.error.message) || "HTTP " + r.status);
    return data;
  }

  function showApp(on) {
    $("login").hidden = on; $("app").hidden = !on; $("logout").hidden = !on; applyLang();
  }
  function signOut(message) {
    sessionStorage.removeItem(KEY); showApp(false); $("login-error").textContent = message || "";
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
    } catch (e) { $("jobs-error").textContent = e.message; }
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
    $("jsonl").placeholder = '{"msgid": "M1", "msgtype": "text", "content": "谢谢，问题解决了", "conversation_id": "c1", "sender": "zhangsan", "msgtime": 1700000000}';
    showApp(Boolean(sessionStorage.getItem(KEY)));
  });
})();
