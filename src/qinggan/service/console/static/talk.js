// The Conversation tab: turns one by one, the trend and per-turn mood chart, anger flags.
import { $, api, el, onLanguage, svgEl, t } from "./core.js";

const MAX_TURNS = 100;
const CUSTOMER = "客户";
const turns = [];

function drawChart(scored) {
  const svg = $("chart");
  svg.replaceChildren($("chart-title"));
  const W = 600, H = 200, pad = 16;
  svg.append(svgEl("line", { x1: 0, x2: W, y1: H / 2, y2: H / 2, class: "axis" }));
  const n = scored.length;
  const xy = scored.map((s, i) => [
    n === 1 ? W / 2 : pad + (i * (W - 2 * pad)) / (n - 1),
    H / 2 - Math.max(-1, Math.min(1, s.score)) * (H / 2 - pad),
  ]);
  if (n > 1) svg.append(svgEl("polyline", { points: xy.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ") }));
  scored.forEach((s, i) => {
    const cls = "point" + (s.counted ? "" : " staff") + (turns[i].flag ? " flag" : "");
    const tip = svgEl("title", {});
    tip.textContent = (i + 1) + ". " + (s.speaker || "") + ": " + s.score.toFixed(3);
    svg.append(svgEl("circle", { cx: xy[i][0].toFixed(1), cy: xy[i][1].toFixed(1), r: 5, class: cls }, tip));
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

function flagOf(emotions) {
  const r = emotions.result;
  const top = r.intensity && r.intensity.length ? r.intensity[0] : null;
  return (r.label === "anger" || r.label === "anxiety") && top && top.degree === 3 ? r.label : "";
}

function showTrend(result) {
  const offset = turns.length - result.turns.length;
  const scored = turns.map((x, i) => result.turns[i - offset] || { score: 0, counted: false, speaker: x.speaker });
  $("trend-label").textContent = t(result.label) + " (" + result.label + ")";
  $("trend-label").dataset.label = result.label;
  drawChart(scored);
  listTurns(scored);
}

async function addTurn(ev) {
  ev.preventDefault();
  $("talk-error").textContent = "";
  const text = $("turn-text").value.trim();
  if (!text) return;
  const turn = { speaker: $("speaker").value, text, flag: "" };
  turns.push(turn);
  $("turn-text").value = "";
  try {
    const recent = turns.slice(-MAX_TURNS).map((x) => ({ text: x.text, speaker: x.speaker }));
    const [trend, emotions] = await Promise.all([
      turns.some((x) => x.speaker === CUSTOMER) ? api("trend", { turns: recent }) : null,
      turn.speaker === CUSTOMER ? api("emotions", { text, classes: 7 }) : null,
    ]);
    if (emotions) turn.flag = flagOf(emotions);
    if (trend) showTrend(trend.result); else listTurns(null);
  } catch (e) { $("talk-error").textContent = e.message; }
  $("turn-text").focus();
}

function clearTurns() {
  turns.length = 0; listTurns(null); drawChart([]);
  $("trend-label").textContent = "—"; delete $("trend-label").dataset.label;
}

export function setupTalk() {
  $("turn-form").addEventListener("submit", addTurn);
  $("clear-turns").addEventListener("click", clearTurns);
  onLanguage(() => {
    $("chart-title").textContent = t("chartTitle");
    const label = $("trend-label").dataset.label;
    if (label) $("trend-label").textContent = t(label) + " (" + label + ")";
  });
}

export function resetTalk() { clearTurns(); }
