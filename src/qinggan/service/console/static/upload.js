// An uploaded file or pasted lines -> archive messages (pure functions: no DOM, no network).
//
// JSONL: a line with msgid and msgtype is an archive message, imported as it is; a line
// {"text": ..., "id"?: ...} is a text. CSV/TSV (header row): msgid, msgtype, content
// (+ conversation_id, sender, msgtime) columns are messages; a text column (+ id) is texts.
// TXT: one text per line. A text becomes {"msgid": "<uploadId>-<n or id>", "msgtype": "text",
// "content": text}. Bad lines are reported by number ({line, key, vars}: a string key of
// i18n.js) and the others go on.

export const IMPORT_CHUNK = 500; // most messages per POST /api/v1/archive/import
export const IMPORT_BYTES = 512 * 1024; // and most bytes of them (the server takes 1 MiB)
export const JOB_SIZE = 1000; // most messages per POST /api/v1/jobs
const KINDS = { ".jsonl": "jsonl", ".csv": "csv", ".tsv": "tsv", ".txt": "txt" };
const MESSAGE_COLUMNS = ["msgid", "msgtype", "content", "conversation_id", "sender", "msgtime"];

/** The kind of a file from its name (jsonl, csv, tsv, txt), or undefined. */
export function kindOf(name) {
  const dot = /\.[^.]+$/.exec(name.toLowerCase());
  return dot ? KINDS[dot[0]] : undefined;
}

/** A fresh id for one upload: the prefix of the msgids its texts get. */
export function newUploadId() {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  const random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return "u" + Date.now().toString(36) + random;
}

/** The text of a file: UTF-8, or GB18030 when it is not valid UTF-8 (a byte-order mark is dropped). */
export function decodeText(buffer) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch (e) {
    return new TextDecoder("gb18030").decode(buffer);
  }
}

/**
 * The rows of CSV/TSV text: {rows: [{line, fields}], error?: {line, key}}. Fields may be quoted
 * ("a,b", "say ""hi""", newlines inside); rows end at LF, CRLF or CR; a leading BOM is dropped.
 * ``line`` is the 1-based line a row starts on. An unclosed quote ends the parse with an error.
 */
export function parseDelimited(text, delimiter) {
  const rows = [];
  let fields = [], field = "", quoted = false, fresh = true, line = 1, rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => { fields.push(field); rows.push({ line: rowLine, fields }); fields = []; field = ""; fresh = true; };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i += 1; continue; }
      if (c === "\r" && text[i + 1] === "\n") { i += 1; continue; } // CRLF inside quotes -> LF
      if (c === "\n" || c === "\r") line += 1;
      field += c === "\r" ? "\n" : c;
      i += 1;
    } else if (c === '"' && fresh) {
      quoted = true; fresh = false; i += 1;
    } else if (c === delimiter) {
      fields.push(field); field = ""; fresh = true; i += 1;
    } else if (c === "\n" || c === "\r") {
      endRow();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line += 1;
      rowLine = line;
    } else {
      field += c; fresh = false; i += 1;
    }
  }
  if (quoted) return { rows, error: { line: rowLine, key: "unclosedQuote" } };
  if (field !== "" || fields.length || !fresh) endRow();
  return { rows };
}

/** What one upload gives: messages with their line, the texts it knows, the bad lines. */
class Upload {
  constructor(uploadId) {
    this.uploadId = uploadId;
    this.messages = []; // [{line, message}]
    this.texts = new Map(); // msgid -> text
    this.problems = []; // [{line, key, vars}]
    this.msgids = new Set();
    this.textCount = 0;
  }

  bad(line, key, vars) { this.problems.push({ line, key, vars }); }

  addMessage(line, message) {
    const msgid = message.msgid;
    if (typeof msgid === "string" && this.msgids.has(msgid)) return this.bad(line, "duplicateId", { id: msgid });
    if (typeof msgid === "string") this.msgids.add(msgid);
    if (message.msgtype === "text" && typeof message.content === "string") this.texts.set(msgid, message.content);
    this.messages.push({ line, message });
  }

  addText(line, text, id) {
    if (typeof text !== "string" || !text.trim()) return this.bad(line, "emptyText");
    const hasId = id !== undefined && id !== null && id !== "";
    if (hasId && typeof id !== "string" && typeof id !== "number") return this.bad(line, "badId");
    this.textCount += 1;
    const suffix = hasId ? String(id) : String(this.textCount);
    this.addMessage(line, { msgid: this.uploadId + "-" + suffix, msgtype: "text", content: text });
  }
}

function readJsonLines(text, upload) {
  text.split(/\r\n|\n|\r/).forEach((raw, index) => {
    const line = index + 1;
    if (!raw.trim()) return;
    let value;
    try { value = JSON.parse(raw); } catch (e) { return upload.bad(line, "notJson"); }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return upload.bad(line, "notObject");
    if ("msgid" in value && "msgtype" in value) return upload.addMessage(line, value);
    if ("text" in value) return upload.addText(line, value.text, value.id);
    upload.bad(line, "notMessageOrText");
  });
}

function readTextLines(text, upload) {
  text.split(/\r\n|\n|\r/).forEach((raw, index) => {
    if (raw.trim()) upload.addText(index + 1, raw);
  });
}

function messageFromRow(header, fields) {
  const message = {};
  MESSAGE_COLUMNS.forEach((name) => {
    const at = header.indexOf(name);
    const value = at >= 0 ? fields[at] : "";
    if (value === "") return;
    message[name] = name === "msgtime" && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  });
  return message;
}

function readTable(text, delimiter, upload) {
  const { rows, error } = parseDelimited(text, delimiter);
  if (error) upload.bad(error.line, error.key);
  if (!rows.length) return;
  const header = rows[0].fields.map((h) => h.trim().toLowerCase());
  const messages = ["msgid", "msgtype", "content"].every((name) => header.includes(name));
  if (!messages && !header.includes("text")) return upload.bad(rows[0].line, "badHeader");
  for (const { line, fields } of rows.slice(1)) {
    if (fields.every((f) => !f.trim())) upload.bad(line, "emptyRow");
    else if (fields.length !== header.length) upload.bad(line, "fieldCount");
    else if (messages) upload.addMessage(line, messageFromRow(header, fields));
    else upload.addText(line, fields[header.indexOf("text")], header.includes("id") ? fields[header.indexOf("id")] : undefined);
  }
}

/** Pasted lines: JSONL when the first line that is not blank starts with "{", else texts. */
export function pastedKind(text) {
  const first = text.split(/\r\n|\n|\r/).find((line) => line.trim());
  return first && first.trim().startsWith("{") ? "jsonl" : "txt";
}

/**
 * Read ``text`` of ``kind`` (jsonl, csv, tsv, txt): {uploadId, messages: [{line, message}],
 * texts: Map(msgid -> text), problems: [{line, key, vars}]}.
 */
export function readUpload(text, kind, uploadId) {
  const upload = new Upload(uploadId || newUploadId());
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (kind === "jsonl") readJsonLines(body, upload);
  else if (kind === "csv") readTable(body, ",", upload);
  else if (kind === "tsv") readTable(body, "\t", upload);
  else readTextLines(body, upload);
  upload.problems.sort((a, b) => a.line - b.line);
  return { uploadId: upload.uploadId, messages: upload.messages, texts: upload.texts, problems: upload.problems };
}

/** ``items`` in consecutive chunks of at most ``count`` items and ``bytes`` (their JSON, UTF-8). */
export function chunked(items, count, bytes, measure) {
  const size = measure || ((x) => new TextEncoder().encode(JSON.stringify(x)).length);
  const out = [];
  let current = [], used = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length && (current.length >= count || used + n > bytes)) { out.push(current); current = []; used = 0; }
    current.push(item);
    used += n;
  }
  if (current.length) out.push(current);
  return out;
}

const CSV_SPECIAL = /[",\r\n]/;
/** One CSV line of ``values`` (quoted where needed, quotes doubled). */
export function csvLine(values) {
  return values.map((v) => {
    const s = v === undefined || v === null ? "" : String(v);
    return CSV_SPECIAL.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }).join(",");
}
