// What every part of the console shares: DOM helpers, the language, the session and the API.
import { STRINGS } from "./i18n.js";

const APP_KEY = "qinggan.console.key";
const ADMIN_KEY = "qinggan.console.admin";
const LANG_KEY = "qinggan.console.lang";

export const $ = (id) => document.getElementById(id);

let lang = localStorage.getItem(LANG_KEY) || (navigator.language.startsWith("zh") ? "zh" : "en");
const languageListeners = [];

/** The string ``key`` in the current language, with ``{name}`` filled from ``vars``. */
export function t(key, vars) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}

export const language = () => lang;

export function switchLanguage() {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem(LANG_KEY, lang);
  applyLanguage();
}

/** Run ``listener`` after every language change (to redraw what a part drew itself). */
export function onLanguage(listener) { languageListeners.push(listener); }

export function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title") + " · qinggan";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAria));
  }
  for (const listener of languageListeners) listener();
}

export function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const kid of kids) node.append(kid);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svgEl(tag, attrs, ...kids) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const kid of kids) node.append(kid);
  return node;
}

/** A table head row: one ``th scope=col`` per ``col_<key>`` string. */
export function headRow(keys) {
  return el("tr", {}, ...keys.map((k) => el("th", { scope: "col" }, t("col_" + k))));
}

// -- the session: an app's "app_id:secret" or the admin key, in this tab only ---------------------
export const session = {
  appKey: () => sessionStorage.getItem(APP_KEY),
  adminKey: () => sessionStorage.getItem(ADMIN_KEY),
  appId: () => (sessionStorage.getItem(APP_KEY) || "").split(":")[0],
  startApp(key) { sessionStorage.removeItem(ADMIN_KEY); sessionStorage.setItem(APP_KEY, key); },
  startAdmin(key) { sessionStorage.removeItem(APP_KEY); sessionStorage.setItem(ADMIN_KEY, key); },
  end() { sessionStorage.removeItem(APP_KEY); sessionStorage.removeItem(ADMIN_KEY); },
};

/** An error answer of the API: its ``code`` and a message in the page's language. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const hooks = { usage: () => {}, refused: () => {} };
/** ``usage(remain)`` sees every app answer's calls left; ``refused(message)`` a 401. */
export function onApi(usage, refused) { hooks.usage = usage; hooks.refused = refused; }

async function send(path, method, body, headers) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch("/api/v1/" + path, init);
  const data = await r.json().catch(() => ({}));
  if (r.ok) return data;
  const error = data.error || {};
  const known = error.code && t("err_" + error.code) !== "err_" + error.code;
  const message = known ? t("err_" + error.code) : error.message || "HTTP " + r.status;
  throw new ApiError(r.status, error.code || "", message);
}

/** A call of the native API as the signed-in app (POST when a body is given, else GET). */
export async function api(path, body, method) {
  const verb = method || (body === undefined ? "GET" : "POST");
  try {
    const data = await send(path, verb, body, { "X-API-Key": session.appKey() || "" });
    if (data.usage && "remain" in data.usage) hooks.usage(data.usage.remain);
    return data;
  } catch (e) {
    if (e.status === 401) hooks.refused(t("badLogin"));
    throw e;
  }
}

/** A call of the admin API with the admin key of this tab. */
export async function adminApi(path, body, method) {
  const verb = method || (body === undefined ? "GET" : "POST");
  try {
    return await send("admin/" + path, verb, body, { "X-Admin-Key": session.adminKey() || "" });
  } catch (e) {
    if (e.status === 401 || e.status === 403) hooks.refused(e.message);
    throw e;
  }
}

/** Point the link ``a`` at a fresh download of ``text`` (the previous one is released). */
export function offerDownload(a, name, text, type) {
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.hidden = false;
}
