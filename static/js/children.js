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
        var chosen = entered[index];
        if (isPin) {
          slot.classList.toggle("filled", Boolean(chosen));
          return;
        }
        slot.replaceChildren();
        if (chosen) {
          var key = form.querySelector('button[name=key][value="' + chosen + '"] img');
          var picture = document.createElement("img");
          picture.src = key.src;
          picture.alt = "";
          picture.width = picture.height = 48;
          slot.append(picture);
        }
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

  function setUpCountdown(sentence) {
    var number = document.querySelector("[data-countdown-number]");
    var left = Number(sentence.dataset.countdown);
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer); // the page's refresh brings the pad back
        return;
      }
      var text = left === 1 ? sentence.dataset.one : sentence.dataset.many;
      sentence.textContent = text.replace("{n}", left);
      if (number) number.textContent = left;
    }, 1000);
  }

  function setUpLaunch(forms) {
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
