// The Admin tab (admin key): every app's limits and usage, with inline edits of the daily quota,
// the rate and the enabled flag. The admin API shows counts only, never an app's texts or results.
import { $, adminApi, el, onLanguage, svgEl, t } from "./core.js";

const COLUMNS = ["app", "name", "dialects", "enabled", "calls", "rps", "week", "jobMessages", "jobs", "actions"];
let overview = null; // the last GET /api/v1/admin/apps answer

async function loadApps() {
  $("admin-error").textContent = "";
  try {
    overview = await adminApi("apps");
    renderApps();
  } catch (e) {
    $("admin-error").textContent = e.message;
  }
}

function renderApps() {
  if (!overview) return;
  $("admin-day").textContent = t("adminHintView", { day: overview.day });
  $("admin-day").dataset.day = overview.day;
  const head = el("tr", {}, ...COLUMNS.map((k) => el("th", { scope: "col" }, t("col_" + k))));
  const rows = overview.apps.map(appRow);
  $("admin-apps").replaceChildren(overview.apps.length
    ? el("table", { class: "apps" }, el("caption", { class: "sr-only" }, t("adminCaption")),
      el("thead", {}, head), el("tbody", {}, ...rows))
    : el("p", { class: "hint" }, t("noApps")));
}

const limitText = (n) => (n === null || n === undefined || n === 0 ? t("unlimited") : String(n));

function limitInput(cls, value, label) {
  return el("input", { class: cls, type: "text", inputmode: "numeric", autocomplete: "off",
    value: value === null || value === undefined ? "" : String(value), placeholder: t("unlimited"), "aria-label": label });
}

function usageBar(app) {
  const quota = app.daily_quota;
  const label = t("usageOf", { app: app.app_id, calls: app.calls_today, quota: limitText(quota) });
  const share = quota ? Math.min(1, app.calls_today / quota) : 0;
  const fill = el("div", { class: "fill" + (share >= 1 ? " full" : share >= 0.8 ? " high" : "") });
  fill.style.width = (share * 100).toFixed(1) + "%";
  const attrs = { class: "track", role: "meter", "aria-label": label, "aria-valuemin": "0",
    "aria-valuemax": String(quota || Math.max(1, app.calls_today)), "aria-valuenow": String(app.calls_today) };
  return el("div", attrs, fill);
}

/** Seven bars, oldest first, each with its day and count as a tooltip. */
function weekStrip(app) {
  const days = app.calls_7d;
  const peak = Math.max(1, ...days.map((d) => d.calls));
  const summary = days.map((d) => d.day + ": " + d.calls).join(", ");
  const label = t("weekOf", { app: app.app_id, days: summary });
  const bars = days.map((d, i) => {
    const h = d.calls ? Math.max(1.5, (d.calls / peak) * 18) : 0.5;
    return svgEl("rect", { x: i * 10 + 1, y: (20 - h).toFixed(2), width: 8, height: h.toFixed(2),
      class: i === days.length - 1 ? "today" : "" }, svgEl("title", {}, d.day + ": " + d.calls));
  });
  return svgEl("svg", { class: "week", viewBox: "0 0 70 20", width: 70, height: 20, role: "img",
    "aria-label": label, "data-calls": days.map((d) => d.calls).join(",") }, svgEl("title", {}, label), ...bars);
}

function appRow(app) {
  const id = app.app_id;
  const enabled = el("input", { type: "checkbox", class: "enabled", "aria-label": t("enabledOf", { app: id }) });
  enabled.checked = app.enabled;
  const quota = limitInput("quota", app.daily_quota, t("quotaOf", { app: id }));
  const rps = limitInput("rps", app.rps, t("rpsOf", { app: id }));
  const save = el("button", { type: "button", class: "small", "aria-label": t("saveOf", { app: id }) }, t("save"));
  save.addEventListener("click", () => saveApp(app, { enabled, quota, rps }, save));
  const jobs = app.jobs;
  return el("tr", { "data-app": id, "data-enabled": String(app.enabled) },
    el("th", { scope: "row" }, el("code", {}, id)),
    el("td", {}, app.name),
    el("td", { class: "dialects" }, app.dialects.join(", ")),
    el("td", {}, enabled),
    el("td", { class: "calls" }, el("span", { class: "calls-today", "data-calls": String(app.calls_today) },
      String(app.calls_today)), " / ", quota, usageBar(app)),
    el("td", {}, rps),
    el("td", {}, weekStrip(app)),
    el("td", { "data-k": "job-messages" }, jobs.messages_today + " / " + limitText(jobs.quota)),
    el("td", { "data-k": "jobs" }, jobs.running + " / " + jobs.total),
    el("td", {}, save));
}

/** The value of a limit input: null for empty or 0 (unlimited), else a whole number. */
function limitValue(input, field) {
  const raw = input.value.trim();
  if (!/^\d*$/.test(raw)) throw new Error(t("badLimit", { field }));
  return raw === "" || Number(raw) === 0 ? null : Number(raw);
}

async function saveApp(app, inputs, button) {
  $("admin-error").textContent = "";
  $("admin-status").textContent = "";
  const change = {};
  try {
    const quota = limitValue(inputs.quota, t("col_calls"));
    const rps = limitValue(inputs.rps, t("col_rps"));
    if (quota !== app.daily_quota) change.daily_quota = quota;
    if (rps !== app.rps) change.rps = rps;
    if (inputs.enabled.checked !== app.enabled) change.enabled = inputs.enabled.checked;
    button.disabled = true;
    const updated = await adminApi("apps/" + encodeURIComponent(app.app_id), change, "PATCH");
    overview.apps = overview.apps.map((a) => (a.app_id === updated.app_id ? updated : a));
    renderApps();
    $("admin-status").textContent = t("saved", { app: app.app_id });
  } catch (e) {
    $("admin-error").textContent = e.message;
    button.disabled = false;
  }
}

/** Wire the tab (once, when its module is first loaded). */
export function setup() {
  $("admin-refresh").addEventListener("click", loadApps);
  onLanguage(renderApps);
}

/** The tab opens: load every app. */
export function open() { return loadApps(); }

/** Forget what this tab showed of the previous session. */
export function reset() {
  overview = null;
  $("admin-apps").replaceChildren();
  $("admin-status").textContent = "";
  $("admin-error").textContent = "";
}
