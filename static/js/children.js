// The children's pages work as plain forms; this script only makes them quicker.
// PIN pad and picture grid: keys fill the entry here and only a full entry is sent.
// Keyboard: digits and Backspace on the PIN pad. Waits count down. A product opens once.
"use strict";

(function () {
  function setUpPad(form) {
    var length = Number(form.dataset.length);
    var isPin = form.dataset.kind === "pin";
    var field = form.elements.namedItem("entered");
    var slots = form.querySelectorAll(".slots > span");
    var status = form.querySelector("[role=status]");
    var entered = field.value ? field.value.split(isPin ? "" : ",") : [];
    var sending = false;

    function show() {
      slots.forEach(function (slot, index) {
        slot.classList.toggle("filled", index < entered.length);
      });
      status.textContent = status.dataset.template
        .replace("{done}", entered.length)
        .replace("{total}", length);
      field.value = entered.join(isPin ? "" : ",");
    }

    function press(key) {
      if (sending) return;
      if (key === "wis") {
        entered.pop();
      } else if (entered.length < length) {
        entered.push(key);
      }
      show();
      if (entered.length === length) {
        sending = true;
        form.classList.add("sending");
        form.submit(); // without a "key": the server checks the full entry
      }
    }

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[name=key]");
      if (!button) return;
      event.preventDefault();
      press(button.value);
    });

    if (isPin) {
      document.addEventListener("keydown", function (event) {
        if (event.ctrlKey || event.metaKey || event.altKey) return;
        // A key held down repeats: one press is one digit, not a whole (wrong) PIN.
        if (event.repeat || event.isComposing) return;
        if (event.target.closest("input, textarea, select, [contenteditable]")) return;
        if (/^[0-9]$/.test(event.key)) {
          event.preventDefault();
          press(event.key);
        } else if (event.key === "Backspace" || event.key === "Delete") {
          event.preventDefault();
          press("wis");
        }
      });
    }
    // Coming back with the browser's back button shows the page from memory: start afresh.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        entered = [];
        sending = false;
        form.classList.remove("sending");
        show();
      }
    });
  }

  function setUpCountdown(number) {
    // Counted against the clock, not the timer, which browsers slow down in the background.
    var deadline = Date.now() + Number(number.dataset.countdown) * 1000;
    var timer = window.setInterval(function () {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        window.clearInterval(timer);
        window.location.reload(); // the pad comes back
        return;
      }
      number.textContent = left;
    }, 250);
  }

  function setUpLaunch(forms) {
    if (!forms.length) return;
    // Back from the product, from the browser's memory: the session has ended, ask again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) window.location.reload();
    });
    forms.forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (document.body.classList.contains("opening")) {
          event.preventDefault(); // one product per session: the first tap wins
          return;
        }
        document.body.classList.add("opening");
        window.setTimeout(function () {
          document.querySelectorAll("form.launch button").forEach(function (button) {
            button.disabled = true;
          });
        }, 0);
      });
    });
  }

  var pad = document.querySelector("form.pad");
  if (pad) setUpPad(pad);
  var countdown = document.querySelector("[data-countdown]");
  if (countdown) setUpCountdown(countdown);
  setUpLaunch(document.querySelectorAll("form.launch"));
})();
