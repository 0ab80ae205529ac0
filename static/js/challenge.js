/* Anti-bot proof of work of the booking form (the altcha v1 protocol, no third party).
 *
 * The browser fetches a signed challenge from the portal, finds the number whose SHA-256
 * with the salt gives the challenge, and puts the solution in the form's hidden `altcha`
 * field. It starts as soon as the page opens, so that it is usually finished before the
 * applicant has filled the form; a submit before that waits for it. About 1 kB, instead
 * of the 118 kB altcha widget: the page is used on slow mobile data. */
(function () {
  "use strict";
  var status = document.getElementById("challenge-status");
  var form = document.getElementById("booking-form");
  if (!status || !form) return;
  var field = form.querySelector('input[name="altcha"]');
  var solved = false;
  var waiting = false;

  function say(key) {
    status.textContent = status.getAttribute("data-" + key);
  }

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  async function solve(challenge) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= challenge.maxnumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) return n;
    }
    throw new Error("no solution");
  }

  async function run() {
    var response = await fetch(status.getAttribute("data-challenge-url"), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("challenge " + response.status);
    var challenge = await response.json();
    var number = await solve(challenge);
    field.value = btoa(JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: number,
      salt: challenge.salt,
      signature: challenge.signature,
    }));
    solved = true;
    say("done");
    if (waiting) form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (!solved) {
      event.preventDefault();
      waiting = true;
      say("working");
    }
  });

  if (!window.crypto || !crypto.subtle || !window.fetch) {
    say("failed");
    return;
  }
  run().catch(function () { say("failed"); });
})();
