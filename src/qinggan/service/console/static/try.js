// The Try it tab: polarity, emotions, dialogue emotion and aspect opinions of a few texts, with
// the characters that pushed the polarity (POST /api/v1/explain) and the aspect/opinion spans.
import { $, api, el, t } from "./core.js";

const MAX_TEXTS = 100;

function bars(probs, coloured) {
  const list = el("ul", { class: "bars" });
  const entries = Object.entries(probs).sort((a, b) => b[1] - a[1]);
  for (const [label, p] of entries) {
    const fill = el("div", { class: "fill " + (coloured ? label : "") });
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

function polarityBox(r) {
  return el("div", { class: "polarity" }, el("h3", {}, t("polarity") + " ",
    el("span", { class: "tag label " + (r.label || "") }, r.label || r.error || "")),
    r.probabilities ? bars(r.probabilities, true) : "");
}

function emotionsBox(r) {
  const box = el("div", { class: "emotions" }, el("h3", {}, t("emotions") + " ",
    el("span", { class: "tag label" }, r.label || r.error || "")));
  if (r.probabilities) box.append(bars(r.probabilities));
  if (r.intensity && r.intensity.length) {
    const top = r.intensity[0];
    box.append(el("p", { class: "intensity" }, t("intensity") + ": " + top.degree +
      " (" + (top.probability * 100).toFixed(0) + "%)"));
  }
  return box;
}

function dialogueBox(r) {
  const box = el("div", { class: "dialogue" }, el("h3", {}, t("dialogue")));
  if (!r.level1) {
    box.append(el("p", { class: "error" }, r.error || ""));
    return box;
  }
  box.append(el("p", {}, t("level1") + ": ", el("span", { class: "tag label" }, r.level1),
    " " + t("level2") + ": ", el("span", { class: "tag label" }, r.level2)));
  box.append(bars(r.level2_probabilities));
  if (r.replies && r.replies.length) {
    box.append(el("p", {}, t("replies")), el("ul", { class: "replies" }, ...r.replies.map((x) => el("li", {}, x))));
  }
  return box;
}

// The text with each opinion's aspect and opinion spans marked; spans count code points (as the
// API's offsets do), so an emoji before a span does not shift it.
function spans(text, opinions) {
  const chars = Array.from(text), role = chars.map(() => ""), who = chars.map(() => -1);
  opinions.forEach((o, k) => {
    for (const [span, cls] of [[o.opinion_span, "op " + o.polarity], [o.aspect_span, "asp"]]) {
      if (!span) continue;
      for (let c = span[0]; c < Math.min(span[1], chars.length); c++) { role[c] = cls; who[c] = k; }
    }
  });
  const box = el("p", { class: "aspect-text" });
  for (let i = 0, j; i < chars.length; i = j) {
    for (j = i + 1; j < chars.length && role[j] === role[i] && who[j] === who[i];) j++;
    const piece = chars.slice(i, j).join("");
    box.append(role[i] ? el("mark", { class: role[i], "data-opinion": String(who[i]) }, piece) : piece);
  }
  return box;
}

function aspectsBox(r) {
  const box = el("div", { class: "aspects" }, el("h3", {}, t("aspects")));
  if (!r.opinions || !r.opinions.length) {
    box.append(r.opinions ? el("p", { class: "hint" }, t("noOpinion")) : el("p", { class: "error" }, r.error || ""));
    return box;
  }
  box.append(spans(r.text, r.opinions), el("ul", { class: "opinions" }, ...r.opinions.map((o) =>
    el("li", { "data-polarity": o.polarity }, el("b", {}, o.aspect || t("implicit")), " → " + o.opinion + " ",
      el("span", { class: "tag " + o.polarity }, o.polarity), o.category ? " " + o.category : ""))));
  return box;
}

function resultCard(i, ex, pol, emo, dia, asp) {
  const card = el("article", { class: "result", "data-index": String(i) });
  const e = ex.results[i];
  card.append(e.error ? el("p", { class: "error" }, e.error) : explained(e));
  const grid = el("div", { class: "grid" });
  if (pol) grid.append(polarityBox(pol.results[i]));
  if (emo) grid.append(emotionsBox(emo.results[i]));
  if (dia) grid.append(dialogueBox(dia.results[i]));
  card.append(grid);
  if (asp) card.append(aspectsBox(asp.results[i]));
  return card;
}

async function analyze(ev) {
  ev.preventDefault();
  $("try-error").textContent = "";
  const texts = $("texts").value.split("\n").map((s) => s.trim()).filter(Boolean).slice(0, MAX_TEXTS);
  if (!texts.length) return;
  const started = performance.now();
  const calls = [
    api("explain", { texts }),
    $("j-polarity").checked ? api("polarity", { texts }) : null,
    $("j-emotions").checked ? api("emotions", { texts, classes: Number($("classes").value) }) : null,
    $("j-dialogue").checked ? api("dialogue-emotion", { texts, scene: $("scene").value }) : null,
    $("j-aspects").checked ? api("aspects", { texts }) : null,
  ];
  let answers;
  try { answers = await Promise.all(calls); } catch (e) { $("try-error").textContent = e.message; return; }
  const [ex, pol, emo, dia, asp] = answers;
  const out = $("results");
  out.replaceChildren(...texts.map((text, i) => resultCard(i, ex, pol, emo, dia, asp)));
  out.dataset.ms = String(Math.round(performance.now() - started));
}

export function setupTry() {
  $("try-form").addEventListener("submit", analyze);
}
