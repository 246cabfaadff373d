/*
 * J'alerte l'Arcep: the embeddable chat widget. Vanilla JavaScript, no build step, no dependency.
 *
 *   <script src="https://HOST/widget.js" data-lang="fr"></script>
 *   or  <script src="https://HOST/widget.js" data-autoinit="false"></script>
 *       <script>JAlerte.init({lang: "en", position: "left"})</script>
 *
 * Options (data-* attributes or init({...})): lang "fr"|"en", server (base URL, default: the
 * origin of this script), position "right"|"left", open (boolean). Protocol and integration:
 * docs/widget-protocol.md.
 *
 * Decisions:
 * - Everything lives in an open Shadow DOM with its own CSS (`:host {all: initial}`): the host
 *   page cannot restyle the widget and the widget cannot leak styles into the page.
 * - Server and user text reach the page only as text nodes (textContent), never innerHTML;
 *   links are made only for https:// URLs.
 * - The WebSocket opens when the panel is first opened (or at once with open: true): a mere
 *   visit to the host page costs the server nothing.
 * - No outgoing queue: a frame is sent once or not at all. Offline, the typed text stays in the
 *   box; after a reconnection, the history sent by the server is the truth.
 * - The server closes a socket nobody used for a while (close code 4000, reason "idle"). The
 *   widget then waits, without retrying, for the person to act again (open the chat, touch
 *   it, type, send, choose): it reconnects with its session and does that action once the
 *   conversation is back. Nothing is lost; only that one action waits, never a queue.
 * - A server that stops (a host restarted behind the proxy) closes with 1012 (« service
 *   restart ») once the turn in flight is answered: the widget reconnects at once (within
 *   half a second, spread), with its session, and the proxy sends it to a host that runs.
 */
(function () {
  "use strict";
  if (window.JAlerte && window.JAlerte.init) return; // the script was included twice

  var SCRIPT = document.currentScript; // only available now, while the script runs
  var STORAGE_KEY = "jalerte.session";
  var MAX_UPLOAD = 10 * 1024 * 1024; // the server's limit (10 MB)
  var ACCEPT = "image/jpeg,image/png,image/webp";
  var MAX_BACKOFF = 30000;
  var IDLE_CLOSE = 4000; // the server closed a socket left idle: reconnect at the next action
  var RESTART_CLOSE = 1012; // the server is restarting: reconnect at once (another host)

  var STRINGS = {
    fr: {
      open: "Ouvrir le chat J'alerte l'Arcep", title: "J'alerte l'Arcep", close: "Fermer le chat",
      forget: "Effacer mes données", forgetCommand: "/oublier",
      label: "Votre message", placeholder: "Décrivez votre problème…", send: "Envoyer",
      photo: "Joindre une photo (JPEG, PNG ou WEBP, 10 Mo maximum)", uploading: "Envoi de la photo…",
      connecting: "Connexion…", reconnecting: "Reconnexion…", notSent: "Non envoyé",
      offline: "Pas de connexion pour l'instant : rien n'a été envoyé, réessayez dans un instant.",
      you: "Vous :", bot: "J'alerte :", choices: "Réponses proposées", newTab: "nouvel onglet",
      copy: "Copier le texte", copied: "Texte copié.", copyManual: "Sélectionnez le texte et copiez-le.",
      shareText: "Texte à partager", photoSent: "📷 Photo", location: "📍 Position partagée",
      tooLarge: "Cette photo dépasse 10 Mo : choisissez une image plus légère.",
      badType: "Formats acceptés : JPEG, PNG ou WEBP.",
      uploadFailed: "La photo n'a pas pu être envoyée : réessayez.",
      failed: "Un problème technique est survenu : réessayez dans un instant.",
      busy: "Vous envoyez beaucoup de messages : patientez une minute, puis réessayez.",
      keepTitle: "Gardez une trace de votre alerte", keepPrint: "Récapitulatif à imprimer",
      keepDownload: "Télécharger le récapitulatif",
      keepNote: "Sans données personnelles : ni votre description, ni vos photos.",
      welcome: "Bonjour ! Je recueille vos alertes sur les problèmes de téléphone, d'internet, de courrier " +
        "ou de colis, pour l'Arcep, le régulateur.\nDécrivez votre problème en quelques mots, par " +
        "exemple : « Pas de réseau Orange dans mon village » ou « Free me facture après ma résiliation »."
    },
    en: {
      open: "Open the J'alerte l'Arcep chat", title: "J'alerte l'Arcep", close: "Close the chat",
      forget: "Erase my data", forgetCommand: "/forget",
      label: "Your message", placeholder: "Describe your problem…", send: "Send",
      photo: "Attach a photo (JPEG, PNG or WEBP, 10 MB max)", uploading: "Sending the photo…",
      connecting: "Connecting…", reconnecting: "Reconnecting…", notSent: "Not sent",
      offline: "Not connected right now: nothing was sent, try again in a moment.",
      you: "You:", bot: "J'alerte:", choices: "Suggested answers", newTab: "new tab",
      copy: "Copy the text", copied: "Text copied.", copyManual: "Select the text and copy it.",
      shareText: "Text to share", photoSent: "📷 Photo", location: "📍 Shared location",
      tooLarge: "This photo is over 10 MB: choose a lighter picture.",
      badType: "Accepted formats: JPEG, PNG or WEBP.",
      uploadFailed: "The photo could not be sent: please try again.",
      failed: "A technical problem occurred: please try again in a moment.",
      busy: "You are sending many messages: wait a minute and try again.",
      keepTitle: "Keep a record of your alert", keepPrint: "Printable summary",
      keepDownload: "Download the summary",
      keepNote: "No personal data: neither your description nor your photos.",
      welcome: "Hello! I collect your reports of problems with phone, internet, mail or parcel " +
        "operators for Arcep, the French regulator.\nDescribe your problem in a few words, for " +
        "example: \"No Orange network in my village\" or \"Free still bills me after I cancelled\"."
    }
  };

  // --b: "bleu France", the French State's colour. Custom properties survive `all: initial`.
  var CSS = `:host{all:initial} *{box-sizing:border-box} [hidden]{display:none!important}
.wrap{--b:#000091;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1e1e1e}
button{font:inherit} a{color:var(--b);text-decoration:underline}
.bubble{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;
  border:0;padding:0;background:var(--b);color:#fff;cursor:pointer;display:flex;align-items:center;
  justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.3)} .bubble:hover{background:#1212ff}
.panel{position:fixed;bottom:92px;right:20px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);
  height:600px;max-height:calc(100vh - 112px);background:#fff;border-radius:12px;display:flex;
  flex-direction:column;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3)}
.left .bubble,.left .panel{right:auto;left:20px}
.head{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:8px 8px 8px 16px;
  background:var(--b);color:#fff} .head h2{margin:0;font-size:17px;font-weight:700;color:#fff}
.forget{margin-left:auto;border:0;background:transparent;color:#fff;font:inherit;font-size:13px;
  text-decoration:underline;cursor:pointer;padding:8px 4px;border-radius:6px}
.forget:focus-visible{outline:3px solid #fff;outline-offset:1px}
.close{width:40px;height:40px;border:0;border-radius:6px;background:transparent;color:#fff;cursor:pointer;
  display:flex;align-items:center;justify-content:center} .close:hover{background:rgba(255,255,255,.15)}
.log{flex:1;overflow-y:auto;position:relative;padding:12px;background:#f6f6f6;overscroll-behavior:contain}
.row{display:flex;margin:6px 0} .row.user{justify-content:flex-end}
.msg{max-width:88%;padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #ddd;
  overflow-wrap:anywhere} .plain,.user .msg{white-space:pre-wrap} .ref{white-space:nowrap;font-weight:600}
.user .msg{background:var(--b);border-color:var(--b);color:#fff} .failed .msg{opacity:.7}
.error .msg{background:#fff0f0;border-color:#ce0500;color:#a00}
.note{display:block;font-size:12px;margin-top:4px} .note:empty{display:none}
.msg p{margin:0 0 .6em} .msg p:last-child{margin-bottom:0} .msg .title{font-weight:700}
.msg ol,.msg ul{margin:0 0 .6em;padding-left:1.4em} .msg li{margin:.25em 0}
.msg .share{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px}
.share a{display:inline-block;padding:4px 10px;border:1px solid var(--b);border-radius:14px;text-decoration:none}
.copy{margin-top:4px;padding:4px 12px;border:1px solid var(--b);border-radius:14px;background:var(--b);
  color:#fff;cursor:pointer}
.share-area{display:block;width:100%;margin-top:6px;padding:6px;font:inherit;font-size:14px;
  border:1px solid #888;border-radius:6px}
.choices{display:flex;flex-wrap:wrap;gap:6px;margin:2px 0 10px}
.choices button{min-height:36px;padding:6px 12px;border:1px solid var(--b);border-radius:18px;
  background:#fff;color:var(--b);cursor:pointer;text-align:left}
.choices button:hover:not(:disabled){background:#e3e3fd} .choices button:disabled{opacity:.5;cursor:default}
.keep{display:block;margin:2px 0 10px;padding:8px 12px;border:1px solid var(--b);border-radius:12px;
  background:#fff;border-top:1px solid var(--b)} .keep p{margin:0 0 6px;font-weight:700}
.keep .btns{display:flex;flex-wrap:wrap;gap:6px}
.keep button{min-height:36px;padding:6px 12px;border:1px solid var(--b);border-radius:18px;background:var(--b);
  color:#fff;cursor:pointer} .keep button.alt{background:#fff;color:var(--b)}
.thumb{display:block;max-width:160px;max-height:160px;border-radius:8px}
.typing{padding:2px 16px;color:#666;font-size:18px;letter-spacing:3px}
.status{padding:4px 12px;font-size:13px;color:#555;border-top:1px solid #eee} .status:empty{display:none}
form{display:flex;align-items:flex-end;gap:6px;margin:0;padding:8px;border-top:1px solid #ddd;background:#fff}
textarea{flex:1;min-width:0;min-height:40px;max-height:120px;resize:none;margin:0;padding:8px 10px;
  font:inherit;font-size:16px;color:#1e1e1e;background:#fff;border:1px solid #888;border-radius:8px}
.icon{flex:none;width:40px;height:40px;padding:0;border:1px solid var(--b);border-radius:8px;
  background:var(--b);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center}
.icon.alt{background:#fff;color:var(--b)} .icon.alt.hint{background:#e3e3fd}
.sr{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;
  clip:rect(0 0 0 0);white-space:nowrap}
:focus-visible{outline:3px solid var(--b);outline-offset:2px;box-shadow:0 0 0 2px #fff}
.close:focus-visible{outline-color:#fff;box-shadow:0 0 0 2px var(--b)}
textarea:focus-visible,.log:focus-visible{outline-offset:-3px;box-shadow:none}
@media (max-width:479.98px){.wrap .panel{top:0;left:0;right:0;bottom:0;width:auto;max-width:none;
  height:auto;max-height:none;border-radius:0} .open .bubble{display:none}}
@media (prefers-reduced-motion:no-preference){.typing{animation:blink 1.2s infinite}}
@keyframes blink{50%{opacity:.3}}`;
  // Notes: textarea at 16px because iOS zooms into smaller fields on focus; the focus ring is
  // blue around white, visible on any background; under 480 px the panel fills the screen.

  // Feather-style stroke icons (MIT licence), drawn with DOM calls like everything else.
  var ICONS = {
    chat: ["M21 11.5a8.38 8.38 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.38 8.38 0 0 1-3.8-.9L3 21l1.9-5.7" +
      "a8.38 8.38 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.38 8.38 0 0 1 3.8-.9h.5a8.48 8.48 0 0 1 8 8v.5z"],
    close: ["M18 6 6 18", "M6 6l12 12"],
    send: ["M22 2 11 13", "M22 2l-7 20-4-9-9-4 20-7z"],
    camera: ["M23 19a2 2 0 0 1-2 2H3a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4l2-3h6l2 3h4a2 2 0 0 1 2 2z",
      "M12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"]
  };

  // -- DOM helpers -----------------------------------------------------------------------
  // h(tag, props, kids): props is a class name or an object (aria-*, data-* and role become
  // attributes, anything else a property); kids are nodes or strings (made text nodes).
  function h(tag, props, kids) {
    var node = document.createElement(tag);
    if (typeof props === "string") props = { className: props };
    Object.keys(props || {}).forEach(function (k) {
      if (/^(aria-|data-|role$)/.test(k)) node.setAttribute(k, props[k]);
      else node[k] = props[k];
    });
    [].concat(kids == null ? [] : kids).forEach(function (kid) {
      node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid);
    });
    return node;
  }

  function icon(name, size) {
    var NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg");
    var attrs = { viewBox: "0 0 24 24", width: size, height: size, fill: "none", stroke: "currentColor",
      "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true",
      focusable: "false" };
    Object.keys(attrs).forEach(function (k) { svg.setAttribute(k, attrs[k]); });
    ICONS[name].forEach(function (d) {
      svg.appendChild(document.createElementNS(NS, "path")).setAttribute("d", d);
    });
    return svg;
  }

  function isHttps(url) { return typeof url === "string" && url.indexOf("https://") === 0; }

  // A link opening in a new tab; plain text when the URL is not https://.
  function link(url, label, t) {
    if (!isHttps(url)) return document.createTextNode(label);
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer",
      "aria-label": label + " (" + t.newTab + ")" }, label);
  }

  // Plain text, bare https:// URLs made clickable (newlines are kept by CSS pre-wrap).
  // Links, and alert references that never wrap mid-code (JA-XXXXXXXX).
  function appendText(parent, text, t) {
    var re = /https:\/\/[^\s<>"«»]*[^\s<>"«».,;:!?)\]]|\bJA-[A-Z0-9]{8}\b/g, last = 0, m;
    text = String(text == null ? "" : text);
    while ((m = re.exec(text))) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[0].indexOf("JA-") === 0) {
        var ref = parent.appendChild(h("span"));
        ref.className = "ref";
        ref.textContent = m[0];
      } else {
        parent.appendChild(link(m[0], m[0], t));
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Inline markdown: **bold** and [label](url); the rest is text.
  function appendInline(parent, text, t) {
    var re = /\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g, last = 0, m; // a new regex per call
    while ((m = re.exec(text))) {
      if (m.index > last) appendText(parent, text.slice(last, m.index), t);
      if (m[1] != null) appendInline(parent.appendChild(h("strong")), m[1], t);
      else parent.appendChild(link(m[3], m[2], t));
      last = m.index + m[0].length;
    }
    if (last < text.length) appendText(parent, text.slice(last), t);
  }

  // Block markdown: paragraphs separated by blank lines, "1. " numbered lines (and "- "
  // bullets, cheap to support); a single newline inside a paragraph becomes <br>.
  function appendMarkdown(parent, md, t) {
    String(md).replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/).forEach(function (block) {
      var list = null, para = null;
      block.split("\n").forEach(function (line) {
        var num = /^\s*(\d+)[.)]\s+(.*)$/.exec(line), bullet = /^\s*[-*]\s+(.*)$/.exec(line);
        if (num || bullet) {
          var tag = num ? "OL" : "UL";
          if (!list || list.tagName !== tag) {
            list = parent.appendChild(h(tag.toLowerCase()));
            if (num) list.start = parseInt(num[1], 10);
          }
          appendInline(list.appendChild(h("li")), num ? num[2] : bullet[1], t);
          para = null;
        } else if (line.trim()) {
          if (para) para.appendChild(h("br"));
          else para = parent.appendChild(h("p"));
          appendInline(para, line.trim(), t);
          list = null;
        }
      });
    });
  }

  function readSession() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }
  function saveSession(id) { // storage refused (privacy settings): the session lives in memory
    try { window.localStorage.setItem(STORAGE_KEY, id); } catch (e) { /* nothing to do */ }
  }

  // -- one widget ------------------------------------------------------------------------
  function makeWidget(opts) {
    var t = STRINGS[opts.lang];
    var base = opts.server.replace(/\/+$/, "");
    var sessionId = readSession();
    var ws = null, ready = false, destroyed = false, started = false, attempt = 0, timer = null;
    var idle = false;      // closed by the server for inactivity: reconnects when the person acts
    var waking = false;    // reconnecting since the person acted: actions wait for the session
    var resume = null;     // the action that woke an idle widget, done once the session is back
    var pending = [];      // frames awaiting their turn (or error), oldest first: {row, text}
    var choiceGroups = []; // quick replies of the latest bot turn, the only ones shown
    var kept = {};         // alert references whose summary form is shown (once each)
    var inFlight = [];     // rows of photos still uploading, kept across history re-renders

    // A custom element (the page's `div {...}` rules do not match it) holding a shadow root.
    var host = document.createElement("jalerte-widget");
    var root = host.attachShadow({ mode: "open" });
    var bubble = h("button", { className: "bubble", type: "button", "aria-label": t.open,
      "aria-expanded": "false", "aria-controls": "jalerte-panel", "data-testid": "jalerte-bubble" },
    icon("chat", 30));
    var closeBtn = h("button", { className: "close", type: "button", "aria-label": t.close }, icon("close", 22));
    // « Oubliez-moi »: the bot asks for confirmation before erasing anything.
    var forgetBtn = h("button", { className: "forget", type: "button", "data-testid": "jalerte-forget" },
      t.forget);
    // tabIndex: a scrollable region must be reachable with the keyboard.
    var log = h("div", { className: "log", role: "log", "aria-live": "polite", "aria-label": t.title,
      tabIndex: 0, "data-testid": "jalerte-log" });
    var typing = h("div", { className: "typing", hidden: true, "aria-hidden": "true" }, "•••");
    var status = h("div", { className: "status", role: "status", "data-testid": "jalerte-status" });
    var input = h("textarea", { id: "jalerte-input", rows: 1, placeholder: t.placeholder,
      "data-testid": "jalerte-input" });
    var file = h("input", { type: "file", id: "jalerte-file", accept: ACCEPT, hidden: true,
      "data-testid": "jalerte-file" });
    var photoBtn = h("button", { className: "icon alt", type: "button", title: t.photo, "aria-label": t.photo },
      icon("camera", 20));
    var sendBtn = h("button", { className: "icon", type: "submit", title: t.send, "aria-label": t.send,
      "data-testid": "jalerte-send" }, icon("send", 20));
    var form = h("form", null, [h("label", { className: "sr", htmlFor: "jalerte-input" }, t.label), input,
      h("label", { className: "sr", htmlFor: "jalerte-file" }, t.photo), file, photoBtn, sendBtn]);
    var panel = h("div", { className: "panel", id: "jalerte-panel", hidden: true, role: "dialog",
      "aria-labelledby": "jalerte-title", "data-testid": "jalerte-panel" }, [
      h("div", "head", [h("h2", { id: "jalerte-title" }, t.title), forgetBtn, closeBtn]), log, typing,
      status, form]);
    // The bubble comes first: Tab goes from the bubble into the open panel.
    var wrap = h("div", { className: "wrap" + (opts.position === "left" ? " left" : ""), lang: opts.lang },
      [bubble, panel]);
    root.appendChild(h("style", null, CSS));
    root.appendChild(wrap);
    document.body.appendChild(host);
    clearLog();

    // -- open / close ----------------------------------------------------------------------
    function isOpen() { return !panel.hidden; }

    // `focus` is false for the `open` option: loading the page must not steal the focus.
    function open(focus) {
      if (destroyed || isOpen()) return;
      panel.hidden = false;
      wrap.classList.add("open");
      bubble.setAttribute("aria-expanded", "true");
      if (!started) { started = true; connect(); } else wake();
      scrollToEnd();
      if (focus !== false) input.focus();
    }

    function close() {
      if (!isOpen()) return;
      var hadFocus = !!root.activeElement; // give the focus back only if the widget had it
      panel.hidden = true;
      wrap.classList.remove("open");
      bubble.setAttribute("aria-expanded", "false");
      if (hadFocus) bubble.focus();
    }

    bubble.addEventListener("click", function () { if (isOpen()) close(); else open(true); });
    closeBtn.addEventListener("click", close);
    forgetBtn.addEventListener("click", function () {
      whenReady(function () {
        var text = t.forgetCommand;
        send({ type: "message", text: text }, { row: appendUser(t.forget), text: text });
        scrollToEnd();
      });
    });
    wrap.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && isOpen()) { e.preventDefault(); close(); }
    });

    // -- the message list ----------------------------------------------------------------
    // A row: a screen-reader prefix ("You:") beside the message, so the message's own text
    // stays exactly what was said.
    function addRow(who, testid, kids) {
      var msg = h("div", { className: "msg", "data-testid": testid }, kids);
      log.appendChild(h("div", "row " + who, [h("span", "sr", who === "user" ? t.you : t.bot), msg]));
      return msg;
    }

    function clearLog() {
      log.textContent = "";
      choiceGroups = [];
      kept = {};
      // A local greeting, always first, with its own test id: it is not a server reply.
      addRow("bot", "jalerte-welcome", t.welcome).classList.add("plain");
    }

    function scrollToEnd() { log.scrollTop = log.scrollHeight; }
    // A new turn taller than the panel (an advice sheet) is shown from its start.
    function scrollToTurn(first) {
      var top = first.offsetTop - 8;
      log.scrollTop = log.scrollHeight - top <= log.clientHeight ? log.scrollHeight : top;
    }

    function appendUser(text) { return addRow("user", "jalerte-user", text).parentNode; }

    function showError(message) {
      var last = log.lastElementChild; // the same error twice in a row is shown once
      if (last && last.classList.contains("error") && last.textContent.indexOf(message) !== -1) return;
      addRow("error", "jalerte-error", message);
      scrollToEnd();
    }

    function markFailed(row) {
      if (!row || row.classList.contains("failed")) return;
      row.classList.add("failed");
      row.querySelector(".msg").appendChild(h("span", "note", t.notSent));
    }

    function appendBot(reply, withChoices) {
      reply = reply || {};
      var msg = addRow("bot", "jalerte-bot");
      if (reply.type === "advice" && reply.markdown) {
        if (reply.title) msg.appendChild(h("p", "title", String(reply.title)));
        appendMarkdown(msg, reply.markdown, t);
      } else if (reply.type === "share") {
        renderShare(msg, reply);
      } else { // text, image (no picture URL in the protocol) and unknown types: the text
        msg.classList.add("plain");
        appendText(msg, reply.text, t);
        var saved = /\bJA-[A-Z0-9]{8}\b/.exec(String(reply.text || ""));
        if (saved) renderKeep(saved[0]);
      }
      if (withChoices && Array.isArray(reply.choices) && reply.choices.length) renderChoices(reply.choices);
      return msg.parentNode;
    }

    // « What the person keeps »: a form posted in a new tab, so that the session id travels
    // in the request body, never in a URL. The server checks that the alert is this
    // session's and answers a printable page without personal data (or a download).
    function renderKeep(ref) {
      if (kept[ref]) return;
      kept[ref] = true;
      var session = h("input", { type: "hidden", name: "session" });
      var form = h("form", { className: "keep", method: "post", target: "_blank",
        action: base + "/summary?lang=" + opts.lang, "data-testid": "jalerte-summary" }, [
        h("p", null, t.keepTitle), session,
        h("input", { type: "hidden", name: "alert", value: ref }),
        h("input", { type: "hidden", name: "lang", value: opts.lang }),
        h("div", "btns", [
          h("button", { type: "submit" }, t.keepPrint),
          h("button", { type: "submit", className: "alt", name: "download", value: "1" }, t.keepDownload)]),
        h("span", "note", t.keepNote)]);
      // noopener, not noreferrer: a POST without referrer carries "Origin: null", which the
      // server refuses when JALERTE_WEB_ALLOWED_ORIGINS names the embedding sites.
      form.setAttribute("rel", "noopener");
      form.addEventListener("submit", function () { session.value = sessionId || ""; });
      log.appendChild(h("div", "row", form));
    }

    function renderShare(msg, reply) {
      var links = (reply.links || []).filter(function (l) { return l && isHttps(l.url); });
      var shareText = String(reply.share_text || "");
      // "text" is the plain-text fallback, which repeats the links and the text to share:
      // keep only the lines that are neither.
      var intro = String(reply.text || "").split("\n").filter(function (line) {
        return line.trim() && line.trim() !== shareText.trim() &&
          !links.some(function (l) { return line.indexOf(l.url) !== -1; });
      }).join("\n");
      if (intro) appendText(msg.appendChild(h("p", "plain")), intro, t);
      var list = msg.appendChild(h("ul", "share"));
      links.forEach(function (l) {
        var a = list.appendChild(h("li")).appendChild(link(l.url, String(l.network), t));
        a.addEventListener("click", function () { send({ type: "shared", network: String(l.network) }); });
      });
      if (!shareText) return;
      var copy = msg.appendChild(h("button", { className: "copy", type: "button" }, t.copy));
      var area = msg.appendChild(h("textarea", { className: "share-area", readOnly: true, rows: 3,
        value: shareText, hidden: true, "aria-label": t.shareText }));
      var feedback = msg.appendChild(h("span", "note"));
      function manual() { // no clipboard API (http page, old browser, refused): select the text
        area.hidden = false;
        area.focus();
        area.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        feedback.textContent = ok ? t.copied : t.copyManual;
      }
      copy.addEventListener("click", function () {
        send({ type: "shared", network: "copy" });
        if (!navigator.clipboard || !navigator.clipboard.writeText) { manual(); return; }
        navigator.clipboard.writeText(shareText).then(function () { feedback.textContent = t.copied; }, manual);
      });
    }

    function renderChoices(choices) {
      var group = log.appendChild(h("div", { className: "choices", role: "group", "aria-label": t.choices }));
      choices.forEach(function (c) {
        var b = group.appendChild(h("button", { type: "button", "data-testid": "jalerte-choice" },
          String(c && c.label)));
        b.addEventListener("click", function () {
          whenReady(function () {
            var row = appendUser(String(c.label));
            send({ type: "choice", value: String(c.value) }, { row: row });
            scrollToEnd();
            input.focus(); // the buttons are now disabled: keep the keyboard focus somewhere useful
          });
        });
      });
      choiceGroups.push(group);
    }

    function setChoicesDisabled(off) {
      choiceGroups.forEach(function (g) { [].forEach.call(g.children, function (b) { b.disabled = off; }); });
    }

    function clearChoices() {
      choiceGroups.forEach(function (g) { if (g.parentNode) g.parentNode.removeChild(g); });
      choiceGroups = [];
    }

    function setStatus(text) { status.textContent = text || ""; }
    function updateTyping() { typing.hidden = pending.length === 0; }

    // -- the socket ------------------------------------------------------------------------
    // Sends a frame, once, if the session is ready; `entry` marks a frame that gets a turn.
    function send(frame, entry) {
      if (!ready || !ws || ws.readyState !== 1) return false;
      ws.send(JSON.stringify(frame));
      if (entry) {
        pending.push(entry);
        setChoicesDisabled(true); // no second answer to the same question while the bot works
        updateTyping();
      }
      return true;
    }

    function connect() {
      timer = null;
      if (destroyed) return;
      setStatus(attempt > 0 ? t.reconnecting : t.connecting);
      var url = base.replace(/^http/, "ws") + "/ws?" +
        (sessionId ? "resume=1&" : "") + "lang=" + opts.lang;
      var resuming = sessionId; // sent in the first frame, never in the URL (proxies log URLs)
      var socket;
      try { socket = ws = new WebSocket(url); } catch (e) { ws = null; scheduleReconnect(); return; }
      if (resuming) {
        socket.onopen = function () {
          try { socket.send(JSON.stringify({ type: "resume", session: resuming })); } catch (e) { /* closed */ }
        };
      }
      socket.onmessage = function (ev) {
        var frame;
        try { frame = JSON.parse(ev.data); } catch (e) { return; }
        if (socket !== ws || !frame || typeof frame !== "object") return;
        if (frame.type === "session") onSession(frame);
        else if (frame.type === "turn") onTurn(frame);
        else if (frame.type === "error") onError(frame);
        // other types are ignored: a newer server may add some
      };
      socket.onclose = function (ev) {
        if (socket !== ws) return;
        ws = null;
        ready = false;
        pending = []; // their fate is unknown: the history after the reconnection will tell
        updateTyping();
        if (ev.code === IDLE_CLOSE) { // nothing to tell: the next action reconnects
          idle = true;
          panel.setAttribute("data-connection", "idle");
          setStatus("");
          return;
        }
        panel.setAttribute("data-connection", "offline");
        setChoicesDisabled(true);
        if (resume) setStatus(t.offline); // that action is not done
        resume = null;
        waking = false;
        if (ev.code === RESTART_CLOSE && attempt === 0) { // not a failure: no back-off
          setStatus(t.reconnecting);
          timer = setTimeout(connect, 100 + Math.random() * 400);
          return;
        }
        scheduleReconnect();
      };
    }

    // The person acts while the socket is closed for inactivity: it opens again, same session.
    function wake() {
      if (!idle || destroyed) return;
      idle = false;
      waking = true;
      connect();
    }

    // Does `action` now if connected; if the socket was closed for inactivity, reconnects
    // and does it once the conversation is back (only the latest such action waits).
    function whenReady(action) {
      if (ready) { action(); return; }
      if (!idle && !waking) { setStatus(t.offline); return; } // the text stays in the box
      resume = action;
      wake();
    }

    // Exponential back-off, 1 s, 2 s, 4 s… up to 30 s, plus up to 20 % of jitter so that a
    // restarted server is not hit by every client in the same second.
    function scheduleReconnect() {
      if (destroyed || timer) return;
      var delay = Math.min(MAX_BACKOFF, 1000 * Math.pow(2, attempt));
      attempt += 1;
      setStatus(t.reconnecting);
      timer = setTimeout(connect, delay * (1 + Math.random() * 0.2));
    }

    function reconnectNow() { // the device is back online: no need to wait for the back-off
      if (timer) { clearTimeout(timer); connect(); }
    }
    window.addEventListener("online", reconnectNow);

    // The first frame of every connection: the whole history is re-rendered; only the bot
    // replies after the last user item (the latest turn) get their quick replies.
    function onSession(frame) {
      if (typeof frame.session === "string" && frame.session) {
        sessionId = frame.session;
        saveSession(sessionId);
      }
      ready = true;
      panel.setAttribute("data-connection", "ready"); // for automated tests of a page
      attempt = 0;
      pending = [];
      setStatus("");
      updateTyping();
      clearLog();
      var items = Array.isArray(frame.history) ? frame.history : [], lastUser = -1;
      items.forEach(function (item, i) { if (item && item.from === "user") lastUser = i; });
      items.forEach(function (item, i) {
        if (item && item.from === "user") appendUser(userText(item));
        else if (item && item.from === "bot") appendBot(item.reply, i > lastUser);
      });
      inFlight.forEach(function (row) { log.appendChild(row); }); // photos still uploading
      scrollToEnd();
      waking = false;
      if (resume) { var action = resume; resume = null; action(); }
    }

    function userText(item) {
      if (item.kind === "photo") return t.photoSent;
      if (item.kind === "location" && item.text == null) return t.location;
      return String(item.text == null ? "" : item.text);
    }

    function onTurn(frame) {
      pending.shift();
      updateTyping();
      clearChoices();
      var first = null;
      (Array.isArray(frame.replies) ? frame.replies : []).forEach(function (r) {
        var row = appendBot(r, true);
        first = first || row;
      });
      photoBtn.classList.toggle("hint", frame.expecting === "photo");
      if (first) scrollToTurn(first);
    }

    // An error answers the oldest pending frame (the server handles a socket's frames in
    // order): it is marked "not sent" and its text goes back into the box, to send again.
    function onError(frame) {
      var entry = pending.shift();
      updateTyping();
      if (entry) {
        markFailed(entry.row);
        if (entry.text && !input.value) { input.value = entry.text; autosize(); }
      }
      if (!pending.length) setChoicesDisabled(false);
      showError(typeof frame.message === "string" && frame.message ? frame.message : t.failed);
    }

    // -- sending ---------------------------------------------------------------------------
    function autosize() {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (input.value.trim()) whenReady(sendTyped);
    });

    function sendTyped() { // what is in the box when it can be sent
      var text = input.value.trim();
      if (!text) return;
      send({ type: "message", text: text }, { row: appendUser(text), text: text });
      input.value = ""; // emptied at once: a second Enter has nothing to send twice
      autosize();
      scrollToEnd();
    }

    // Touching or typing in the open chat is acting: an idle socket opens again at once, so
    // that it is usually back before the message is sent.
    panel.addEventListener("pointerdown", wake);
    panel.addEventListener("keydown", function (e) { if (e.key !== "Escape") wake(); });
    input.addEventListener("focus", wake);

    input.addEventListener("keydown", function (e) { // Enter sends, Shift+Enter: new line
      if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
      e.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    });
    input.addEventListener("input", autosize);

    photoBtn.addEventListener("click", function () { file.click(); });
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      file.value = ""; // the same file can be chosen again
      if (chosen) uploadPhoto(chosen);
    });

    function uploadPhoto(f) {
      var typeOk = ACCEPT.split(",").indexOf(f.type) !== -1 ||
        (!f.type && /\.(jpe?g|png|webp)$/i.test(f.name || ""));
      if (!typeOk) { showError(t.badType); return; }
      if (f.size > MAX_UPLOAD) { showError(t.tooLarge); return; }
      if (!ready) { whenReady(function () { uploadPhoto(f); }); return; }
      // The preview: the chosen picture itself, shown while it uploads. The object URL is
      // released once the image is decoded (the <img> keeps showing it).
      var url = URL.createObjectURL(f);
      var img = h("img", { className: "thumb", alt: t.photoSent, src: url });
      img.onload = img.onerror = function () { URL.revokeObjectURL(url); };
      var note = h("span", "note", t.uploading);
      var row = addRow("user", "jalerte-user", [img, note]).parentNode;
      inFlight.push(row);
      scrollToEnd();
      function done(error) {
        inFlight = inFlight.filter(function (r) { return r !== row; });
        note.textContent = "";
        if (error) { markFailed(row); showError(error); }
      }
      var body = new FormData();
      body.append("session", sessionId);
      body.append("file", f, f.name || "photo");
      fetch(base + "/upload?lang=" + opts.lang, { method: "POST", body: body, credentials: "omit" })
        .then(function (res) {
          return res.json().catch(function () { return {}; }).then(function (data) {
            if (res.ok && data && typeof data.upload_id === "string") {
              // Disconnected meanwhile: not sent (no queue); the photo can be chosen again.
              done(send({ type: "photo", upload_id: data.upload_id }, { row: row }) ? null : t.offline);
              return;
            }
            var fallback = res.status === 413 ? t.tooLarge : res.status === 429 ? t.busy : t.uploadFailed;
            done(data && typeof data.message === "string" && data.message ? data.message : fallback);
          });
        })
        .catch(function () { done(t.uploadFailed); }); // network error, or CORS refused
    }

    function destroy() {
      destroyed = true;
      clearTimeout(timer);
      window.removeEventListener("online", reconnectNow);
      if (ws) { var s = ws; ws = null; try { s.close(1000); } catch (e) { /* already closed */ } }
      if (host.parentNode) host.parentNode.removeChild(host);
    }

    if (opts.open) open(false);
    return { open: open, close: close, destroy: destroy };
  }

  // -- options and initialisation --------------------------------------------------------
  function scriptOptions() {
    var o = {};
    ["lang", "server", "position", "open"].forEach(function (k) {
      var v = SCRIPT && SCRIPT.getAttribute("data-" + k);
      if (v != null) o[k] = k === "open" ? v !== "false" : v; // data-open, data-open="true"
    });
    return o;
  }

  function defaultServer() { // the origin widget.js was loaded from
    try { if (SCRIPT && SCRIPT.src) return new URL(SCRIPT.src, document.baseURI).origin; } catch (e) { /* */ }
    return window.location.origin;
  }

  function normalise(o) {
    return {
      lang: o.lang === "en" ? "en" : "fr",
      server: typeof o.server === "string" && o.server ? o.server : defaultServer(),
      position: o.position === "left" ? "left" : "right",
      open: o.open === true || o.open === "true"
    };
  }

  var instance = null, explicit = false;

  function create(options) {
    if (instance) instance.destroy(); // never two widgets
    instance = makeWidget(normalise(options));
    return instance;
  }

  function whenBodyReady(fn) {
    if (document.body) fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // An explicit init() wins: it replaces a widget started automatically, and so does a
  // later init(). The script tag's data-* attributes are defaults that `options` override.
  // Returns {open(), close()}, usable once the page's <body> exists.
  function init(options) {
    explicit = true;
    var merged = scriptOptions(), api = {};
    Object.keys(options || {}).forEach(function (k) { merged[k] = options[k]; });
    whenBodyReady(function () {
      var w = create(merged);
      api.open = function () { w.open(true); };
      api.close = w.close;
    });
    return api;
  }

  window.JAlerte = { init: init };

  // Automatic start, unless data-autoinit="false"; an init() call before it wins.
  if (SCRIPT && SCRIPT.getAttribute("data-autoinit") !== "false") {
    var auto = function () { if (!explicit && !instance) create(scriptOptions()); };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", auto);
    else setTimeout(auto, 0); // loaded late (async or injected): leave a tick for init()
  }
})();
