/* Anti-bot proof of work of the booking form (the altcha v1 protocol, no third party).
 *
 * The browser fetches a signed challenge from the portal, finds the number whose SHA-256
 * with the salt gives the challenge, and puts the solution in the form's hidden `altcha`
 * field. It starts as soon as the page opens, so that it is usually finished before the
 * applicant has filled the form. A challenge lives two minutes (data-ttl): one that has
 * lapsed is renewed when the person types again or sends the form, never by a reload. A
 * submit waits for the work; if it fails twice, the form is sent without it and the server's
 * pacing token (appointments/pacing.py, the path of browsers without JavaScript) vouches
 * for it instead: nobody is left stuck. 4 kB (under 2 kB compressed), instead of the
 * 118 kB altcha widget. */
(function () {
  "use strict";
  var status = document.getElementById("challenge-status");
  var form = document.getElementById("booking-form");
  if (!status || !form) return;
  var field = form.querySelector('input[name="altcha"]');
  // Renewed this long before the server would refuse it (a slow network's round trip).
  var ttl = (parseInt(status.getAttribute("data-ttl"), 10) || 120) * 1000 - 20000;
  var solvedAt = 0;
  var running = null;
  var waiting = false;
  var failures = 0;
  var able = !!(window.crypto && crypto.subtle && window.fetch && window.TextEncoder);

  function say(key) {
    status.textContent = key ? status.getAttribute("data-" + key) : "";
  }

  function fresh() {
    return solvedAt > 0 && Date.now() - solvedAt < ttl;
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

  async function work() {
    var started = Date.now();
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
    solvedAt = started;  // its life counts from its issue, not from its solution
  }

  function send() {
    waiting = false;
    if (!fresh()) field.value = "";  // a lapsed solution: the pacing token speaks instead
    form.submit();  // (fires no submit event)
  }

  function start() {
    if (running || !able) return;
    say(waiting ? "working" : "");
    running = work().then(function () {
      running = null;
      failures = 0;
      say("done");
      if (waiting) send();
    }, function () {
      running = null;
      failures += 1;
      if (waiting && failures < 2) {
        start();  // once more, at once
      } else if (waiting) {
        send();
      } else {
        say("failed");
      }
    });
  }

  form.addEventListener("submit", function (event) {
    if (!able || fresh()) return;  // sent as it is
    event.preventDefault();
    if (waiting) return;
    waiting = true;
    failures = 0;
    say("working");
    start();
  });

  // Back to the form after a while: a lapsed solution is renewed while the person types.
  function renew() {
    if (!fresh() && !running) start();
  }
  form.addEventListener("focusin", renew);
  form.addEventListener("input", renew);

  start();
})();
