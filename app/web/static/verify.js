// Verifies an inclusion proof in the browser (RFC 9162 section 2.1.3.2) against a C2SP signed
// checkpoint, with WebCrypto: SHA-256 for the Merkle tree, Ed25519 for the note signature.
// Reads the material the page carries (#proof-material) and the two editable text areas, so a
// person can change a byte of the entry or of the checkpoint and watch the check fail.
"use strict";

(function () {
  const material = JSON.parse(document.getElementById("proof-material").textContent);
  const result = document.getElementById("result");
  const details = document.getElementById("details");
  const utf8 = new TextEncoder();

  function fromBase64(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function toBase64(bytes) {
    let raw = "";
    for (const b of bytes) raw += String.fromCharCode(b);
    return btoa(raw);
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function equal(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  // RFC 9162 2.1.3.2: the root an audit path leads to from a leaf hash, or null.
  async function rootFromPath(index, size, leaf, path) {
    if (index >= size) return null;
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    let r = leaf;
    for (const p of path) {
      if (sn === 0n) return null;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(concat(Uint8Array.of(1), p, r));
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await sha256(concat(Uint8Array.of(1), r, p));
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n ? r : null;
  }

  // C2SP signed note: text up to the last blank line, then "— <name> <base64(keyid||sig)>".
  function parseNote(note) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Error("the checkpoint has no signature block");
    const text = note.slice(0, split + 1);
    const lines = text.split("\n");
    if (lines.length < 4) throw new Error("the checkpoint has no origin, size and root lines");
    const signatures = note.slice(split + 2).split("\n").filter((l) => l.length > 0).map((line) => {
      if (!line.startsWith("\u2014 ")) throw new Error("a signature line does not start with an em dash");
      const [name, encoded] = line.slice(2).split(" ");
      return { name, raw: fromBase64(encoded) };
    });
    if (!/^[0-9]+$/.test(lines[1])) throw new Error("the checkpoint's size line is not a number");
    return { text, origin: lines[0], size: BigInt(lines[1]), root: fromBase64(lines[2]), signatures };
  }

  async function verifySignature(note, vkey) {
    // <name>+<8 hex digits>+<base64>: the base64 may itself hold "+", so split twice only.
    const first = vkey.indexOf("+");
    const second = vkey.indexOf("+", first + 1);
    if (first < 0 || second < 0) return "the log's key is malformed";
    const name = vkey.slice(0, first);
    const keyIdHex = vkey.slice(first + 1, second);
    const key = fromBase64(vkey.slice(second + 1));
    if (key.length !== 33 || key[0] !== 1) return "the log's key is not an Ed25519 key";
    const keyId = parseInt(keyIdHex, 16);
    const signature = note.signatures.find((s) =>
      s.name === name && new DataView(s.raw.buffer).getUint32(0) === keyId);
    if (!signature) return "no signature by the log's key";
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
    } catch (error) {
      if (error.name === "NotSupportedError") return "unsupported";
      return "the log's key cannot be read: " + error.message;
    }
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature.raw.slice(4), utf8.encode(note.text));
    return ok ? "ok" : "the signature does not match the checkpoint text";
  }

  function show(state, message, facts) {
    result.dataset.state = state;
    result.textContent = message;
    result.className = state === "verified" ? "ok" : "error";
    details.replaceChildren();
    for (const [term, value] of facts) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.term = term;
      details.append(dt, dd);
    }
  }

  async function verify() {
    const entry = utf8.encode(document.getElementById("entry").value);
    const noteText = document.getElementById("checkpoint-text").value.replace(/\r\n/g, "\n");
    const facts = [];
    try {
      const note = parseNote(noteText.endsWith("\n") ? noteText : noteText + "\n");
      const leaf = await sha256(concat(Uint8Array.of(0), entry));
      facts.push(["Leaf hash", toBase64(leaf)]);
      facts.push(["Checkpoint root", toBase64(note.root)]);
      const root = await rootFromPath(material.index, Number(note.size), leaf, material.audit_path.map(fromBase64));
      facts.push(["Computed root", root ? toBase64(root) : "none: the path does not fit the tree size"]);
      const signature = await verifySignature(note, material.vkey);
      facts.push(["Checkpoint signature", signature === "ok" ? "valid (Ed25519, the log's key)" :
        signature === "unsupported" ? "not checked: this browser lacks Ed25519 in WebCrypto" : signature]);
      if (root === null || !equal(root, note.root)) {
        show("failed", "Not verified: the entry and its audit path do not lead to the checkpoint's root.", facts);
      } else if (signature !== "ok" && signature !== "unsupported") {
        show("failed", "Not verified: " + signature + ".", facts);
      } else {
        show("verified", `Verified: entry ${material.index} is in the log of size ${note.size} that the checkpoint signs.`, facts);
      }
    } catch (error) {
      show("failed", "Not verified: " + error.message + ".", facts);
    }
  }

  document.getElementById("verify").addEventListener("click", verify);
  verify();
})();
