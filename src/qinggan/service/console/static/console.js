// qinggan web console (entry module): sign in as an app (X-API-Key, native API only) or as the
// admin (X-Admin-Key, admin API only), the tabs, and the header. Each tab lives in its own module;
// the first two load with the page, the others the first time they open (a small start-up).
import { $, adminApi, api, applyLanguage, onApi, onLanguage, session, switchLanguage, t } from "./core.js";
import { resetTalk, setupTalk } from "./talk.js";
import { setupTry } from "./try.js";

const APP_TABS = ["tab-try", "tab-talk", "tab-jobs", "tab-examples"];
const ADMIN_TABS = ["tab-admin"];
/** tabs whose module is loaded when first opened; each exports setup(), open() and reset() */
const LAZY_TABS = { "tab-jobs": "./jobs.js", "tab-examples": "./examples.js", "tab-admin": "./admin.js" };
const loadedTabs = new Map(); // tab id -> promise of its module, set up
let wantedTab = null; // the tab asked for last (a slower load must not switch back to its own)
let remain; // calls left today for the signed-in app (null = unlimited)

function showUsage(value) {
  if (value !== undefined) remain = value;
  const box = $("usage");
  box.hidden = remain === undefined || !session.appKey();
  if (remain === undefined) return;
  box.dataset.remain = remain === null ? "" : String(remain);
  box.textContent = t("remain") + (remain === null ? t("unlimited") : String(remain));
}

function showWho() {
  $("who").textContent = session.adminKey() ? t("signedInAdmin") : session.appKey() ? t("signedIn") + session.appId() : "";
}

function selectTab(id) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.id === id;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
  }
}

function tabModule(id) {
  if (!loadedTabs.has(id)) loadedTabs.set(id, import(LAZY_TABS[id]).then((m) => { m.setup(); return m; }));
  return loadedTabs.get(id);
}

/** Select tab ``id``; a lazy tab shows once its module is loaded, then opens. */
async function openTab(id) {
  wantedTab = id;
  if (!(id in LAZY_TABS)) return selectTab(id);
  const part = await tabModule(id);
  if (wantedTab !== id) return;
  selectTab(id);
  await part.open();
}

/** Show the signed-in view: ``role`` is "app", "admin" or null (the login form). */
function showView(role) {
  $("login").hidden = role !== null;
  $("app").hidden = role === null;
  $("logout").hidden = role === null;
  document.body.classList.toggle("admin", role === "admin");
  const tabs = role === "admin" ? ADMIN_TABS : APP_TABS;
  for (const tab of document.querySelectorAll("[role=tab]")) tab.hidden = !tabs.includes(tab.id);
  if (role) openTab(tabs[0]);
  showWho();
  showUsage();
}

function signOut(message) {
  session.end();
  remain = undefined;
  resetTalk();
  for (const part of loadedTabs.values()) part.then((m) => m.reset());
  showView(null);
  $("login-error").textContent = message || "";
}

function chosenRole() {
  return $("role-admin").checked ? "admin" : "app";
}

function showLoginFields() {
  const admin = chosenRole() === "admin";
  $("app-fields").hidden = admin;
  $("admin-fields").hidden = !admin;
  for (const id of ["app-id", "secret"]) $(id).disabled = admin;
  $("admin-key").disabled = !admin;
  $("login-hint").dataset.i18n = admin ? "adminHint" : "loginHint";
  $("login-hint").textContent = t($("login-hint").dataset.i18n);
}

async function signInApp() {
  session.startApp($("app-id").value.trim() + ":" + $("secret").value);
  await api("polarity", { text: "你好" }); // checks the credentials (one call)
  $("secret").value = "";
  showView("app");
  $("texts").focus();
}

async function signInAdmin() {
  session.startAdmin($("admin-key").value);
  await adminApi("apps"); // checks the key
  $("admin-key").value = "";
  showView("admin");
}

async function signIn(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    await (chosenRole() === "admin" ? signInAdmin() : signInApp());
  } catch (e) {
    session.end();
    $("login-error").textContent = e.message;
  }
}

function resume() {
  showView(session.adminKey() ? "admin" : session.appKey() ? "app" : null);
}

function start() {
  onApi(showUsage, signOut);
  onLanguage(() => {
    $("lang").textContent = t("otherLanguage");
    showWho(); showUsage();
  });
  $("lang").addEventListener("click", switchLanguage);
  $("logout").addEventListener("click", () => signOut(""));
  $("login-form").addEventListener("submit", signIn);
  for (const radio of document.querySelectorAll("input[name=role]")) radio.addEventListener("change", showLoginFields);
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => openTab(tab.id));
  setupTry(); setupTalk();
  showLoginFields();
  applyLanguage();
  resume();
}

// a module runs once the document is parsed; DOMContentLoaded may not have fired yet
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
