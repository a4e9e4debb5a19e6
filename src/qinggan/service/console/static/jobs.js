// The Jobs tab: upload or paste -> archive import in chunks -> native jobs -> progress -> results,
// and the app's past jobs. Only the native API (/api/v1/archive/import, /api/v1/jobs).
import { $, api, el, headRow, language, offerDownload, onLanguage, t } from "./core.js";
import {
  IMPORT_BYTES, IMPORT_CHUNK, JOB_SIZE, chunked, csvLine, decodeText, kindOf, pastedKind, readUpload,
} from "./upload.js";

const POLL_MS = 500;
const SHOWN_ROWS = 200;
const RESULT_FIELDS = ["msgid", "text", "sentiment", "confidence", "problem", "message"];
const REPORT_KEYS = ["read", "inserted", "updated", "unchanged", "bad"];

const knownTexts = new Map(); // msgid -> text, from this tab's uploads
let ready = []; // msgids of the last import that a job can analyse
let lastReport = null;
let followed = null; // the jobs shown: [{jobid, status, total, resolved, items}]
let lastPast = null;
let generation = 0; // bumped to stop following older jobs

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const problemText = (p) => t("lineProblem", { n: p.line, error: p.key ? t(p.key, p.vars) : p.error });

function showError(e) { $("jobs-error").textContent = e ? e.message || String(e) : ""; }

// -- reading and importing ----------------------------------------------------------------------
async function readSource() {
  const file = $("upload-file").files[0];
  if (file) {
    const kind = kindOf(file.name);
    if (!kind) throw new Error(t("badFileType", { name: file.name }));
    return readUpload(decodeText(await file.arrayBuffer()), kind);
  }
  const pasted = $("jsonl").value;
  if (!pasted.trim()) throw new Error(t("noSource"));
  return readUpload(pasted, pastedKind(pasted));
}

async function importChunks(messages) {
  const report = { read: 0, inserted: 0, updated: 0, unchanged: 0, bad: 0, problems: [], usable: [] };
  for (const chunk of chunked(messages, IMPORT_CHUNK, IMPORT_BYTES, (m) => JSON.stringify(m.message).length * 3)) {
    const answer = await api("archive/import", { messages: chunk.map((m) => m.message) });
    for (const k of REPORT_KEYS) report[k] += answer[k];
    const refused = new Set();
    for (const p of answer.problems) {
      report.problems.push({ line: chunk[p.index].line, error: p.kind + ": " + p.error });
      if (p.kind === "bad") refused.add(p.index);
    }
    chunk.forEach((m, i) => { if (!refused.has(i)) report.usable.push(m.message.msgid); });
  }
  return report;
}

async function importUpload(ev) {
  ev.preventDefault();
  showError(null);
  $("import").disabled = true;
  try {
    const upload = await readSource();
    if (!upload.messages.length && !upload.problems.length) throw new Error(t("emptyFile"));
    const report = await importChunks(upload.messages);
    report.read += upload.problems.length;
    report.bad += upload.problems.length;
    report.problems = [...upload.problems, ...report.problems].sort((a, b) => a.line - b.line);
    upload.texts.forEach((text, msgid) => knownTexts.set(msgid, text));
    ready = report.usable;
    lastReport = report;
    renderReport();
  } catch (e) {
    showError(e);
  } finally {
    $("import").disabled = false;
  }
}

function renderReport() {
  if (!lastReport) return;
  const r = lastReport;
  const table = el("table", {}, headRowOf(REPORT_KEYS),
    el("tr", {}, ...REPORT_KEYS.map((k) => el("td", { "data-k": k }, String(r[k])))));
  const problems = el("ul", { class: "problems" }, ...r.problems.map((p) => el("li", { "data-line": String(p.line) }, problemText(p))));
  $("import-result").replaceChildren(table, problems);
  $("job-ready").textContent = t("readyMessages", { n: ready.length });
  $("job-box").hidden = ready.length === 0;
}

function headRowOf(keys) {
  return el("tr", {}, ...keys.map((k) => el("th", { scope: "col" }, t(k))));
}

// -- starting and following jobs -------------------------------------------------------------------
async function startJobs() {
  showError(null);
  $("start-job").disabled = true;
  const jobids = [];
  try {
    for (const batch of chunked(ready, JOB_SIZE, Infinity, () => 0)) {
      const created = await api("jobs", { messages: batch.map((msgid) => ({ msgid, secret_key: "" })) });
      jobids.push(created.jobid);
    }
  } catch (e) {
    showError(e);
  }
  loadPastJobs();
  if (jobids.length) await follow(jobids);
  $("start-job").disabled = false;
}

/** Poll each running job of ``jobids`` every 500 ms until all have ended; show progress and results. */
async function follow(jobids) {
  const mine = ++generation;
  const jobs = jobids.map((jobid) => ({ jobid, status: "running", total: 0, resolved: 0, items: [] }));
  followed = jobs;
  $("job-view").hidden = false;
  $("download-jsonl").hidden = $("download-csv").hidden = true;
  try {
    for (;;) {
      for (const job of jobs.filter((j) => j.status === "running")) {
        Object.assign(job, await api("jobs/" + encodeURIComponent(job.jobid)));
      }
      if (mine !== generation) return;
      renderFollowed();
      if (jobs.every((j) => j.status !== "running")) break;
      await sleep(POLL_MS);
    }
  } catch (e) {
    if (mine === generation) showError(e);
    return;
  }
  loadPastJobs();
}

function combinedStatus(jobs) {
  if (jobs.some((j) => j.status === "running")) return "running";
  return jobs.some((j) => j.status === "failed") ? "failed" : "done";
}

const STATE_KEYS = { running: "jobRunning", done: "jobDone", failed: "jobFailed" };

function renderFollowed() {
  if (!followed) return;
  const jobs = followed;
  const done = jobs.reduce((n, j) => n + j.resolved, 0);
  const total = jobs.reduce((n, j) => n + j.total, 0);
  const status = combinedStatus(jobs);
  const progress = $("job-progress");
  progress.textContent = t("jobProgress", { state: t(STATE_KEYS[status]), done, total, jobs: jobs.length });
  Object.assign(progress.dataset, { done: String(done), total: String(total), status });
  $("job-meter").max = Math.max(1, total);
  $("job-meter").value = done;
  $("job-view-title").textContent = t("resultsOf", { jobs: jobs.map((j) => j.jobid).join(", ") });
  $("job-view").dataset.jobids = jobs.map((j) => j.jobid).join(",");
  const rows = jobs.flatMap((j) => j.items).map(resultRow);
  renderResults(rows);
  if (status !== "running") offerResults(rows, jobs[0].jobid + (jobs.length > 1 ? "-and-" + (jobs.length - 1) : ""));
}

function resultRow(item) {
  const row = { msgid: item.msgid };
  if (knownTexts.has(item.msgid)) row.text = knownTexts.get(item.msgid);
  for (const k of ["sentiment", "confidence", "problem", "message"]) if (item[k] !== undefined) row[k] = item[k];
  return row;
}

function renderResults(rows) {
  const cols = ["msgid", "text", "sentiment", "confidence", "problem"];
  const body = rows.slice(0, SHOWN_ROWS).map((r) => el("tr", { "data-msgid": r.msgid },
    ...cols.map((k) => el("td", { "data-k": k, title: k === "problem" && r.message ? r.message : "" },
      cellText(r, k)))));
  $("job-results").replaceChildren(el("table", {}, el("thead", {}, headRow(cols)), el("tbody", {}, ...body)));
  const more = rows.length - SHOWN_ROWS;
  $("job-more").textContent = more > 0 ? t("moreRows", { shown: SHOWN_ROWS, more }) : "";
}

function cellText(row, key) {
  if (key === "confidence") return row.confidence === undefined || row.confidence === null ? "" : row.confidence.toFixed(3);
  if (key === "sentiment") return row.sentiment || (row.problem ? "" : "…");
  return row[key] === undefined ? "" : String(row[key]);
}

function offerResults(rows, name) {
  const jsonl = rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const csv = [RESULT_FIELDS, ...rows.map((r) => RESULT_FIELDS.map((k) => r[k]))].map(csvLine).join("\r\n") + "\r\n";
  offerDownload($("download-jsonl"), "qinggan-" + name + ".jsonl", jsonl, "application/x-ndjson");
  offerDownload($("download-csv"), "qinggan-" + name + ".csv", "\ufeff" + csv, "text/csv");
}

// -- past jobs ----------------------------------------------------------------------------------------
async function loadPastJobs() {
  try {
    lastPast = await api("jobs?limit=50");
    renderPast();
  } catch (e) {
    showError(e);
  }
}

function renderPast() {
  if (!lastPast) return;
  const { jobs, quota } = lastPast;
  const box = $("job-quota");
  box.textContent = t("jobQuota", { used: quota.used, limit: quota.limit ? quota.limit : t("unlimited") });
  Object.assign(box.dataset, { used: String(quota.used), limit: String(quota.limit) });
  const when = (s) => new Date(s * 1000).toLocaleString(language() === "zh" ? "zh-CN" : "en-GB");
  const rows = jobs.map((job) => {
    const open = el("button", { type: "button", class: "ghost small", "aria-label": t("openJob", { jobid: job.jobid }) }, t("open"));
    open.addEventListener("click", () => follow([job.jobid]));
    return el("tr", { "data-jobid": job.jobid, "data-status": job.status },
      el("td", {}, when(job.created_at)), el("td", {}, t(STATE_KEYS[job.status] || job.status)),
      el("td", { "data-k": "progress" }, job.resolved + "/" + job.total), el("td", {}, el("code", {}, job.jobid)),
      el("td", {}, open));
  });
  const head = el("tr", {}, ...["created", "status", "progress", "jobid"].map((k) => el("th", { scope: "col" }, t("col_" + k))),
    el("th", { scope: "col" }, el("span", { class: "sr-only" }, t("open"))));
  $("past-jobs").replaceChildren(jobs.length
    ? el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows))
    : el("p", { class: "hint" }, t("noJobs")));
}

/** Wire the tab (once, when its module is first loaded). */
export function setup() {
  $("import-form").addEventListener("submit", importUpload);
  $("start-job").addEventListener("click", startJobs);
  $("jobs-refresh").addEventListener("click", loadPastJobs);
  $("jsonl").placeholder = '{"text": "谢谢，问题解决了", "id": "1"}\n{"msgid": "M1", "msgtype": "text", "content": "太差了", "conversation_id": "c1"}';
  onLanguage(() => { renderReport(); renderFollowed(); renderPast(); });
}

/** The tab opens: show the app's past jobs and job quota. */
export function open() { return loadPastJobs(); }

/** Forget what this tab showed of the previous session. */
export function reset() {
  generation += 1;
  knownTexts.clear();
  ready = []; lastReport = null; followed = null; lastPast = null;
  $("import-result").replaceChildren(); $("job-results").replaceChildren(); $("past-jobs").replaceChildren();
  $("job-box").hidden = true; $("job-view").hidden = true;
  $("job-quota").textContent = ""; $("job-more").textContent = ""; $("jobs-error").textContent = "";
}
