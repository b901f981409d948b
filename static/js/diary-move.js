// Moving a booking in the day diary: drag it (mouse or pen), or focus its name and press M, then the
// arrow keys, Enter to check, Escape to stop. Nothing changes here: the browser opens the move page
// with the time it was dropped on (?day=&time=&practitioner=&seen=), which shows the series' later
// sessions and asks for one Confirm. Without this script every block keeps its plain "Move" link.
(function () {
  "use strict";
  const diary = document.querySelector(".diary[data-step]");
  if (!diary) return;
  const step = Number(diary.dataset.step) || 30;
  const first = Number(diary.dataset.start);
  const length = Number(diary.style.getPropertyValue("--length"));
  const byRoom = diary.hasAttribute("data-by-room"); // rooms: a move changes the time, not the column
  const status = document.getElementById("diary-move-status");
  const help = document.getElementById("diary-move-help");
  if (help) help.hidden = false;
  const columns = Array.from(diary.querySelectorAll(".diary-column[data-day]"));
  const targets = byRoom ? [] : columns.filter((column) => column.dataset.practitioner);
  let moving = null; // {block, column, top, span, keyboard}
  let ghost = null;
  let justDragged = false;

  function hhmm(minute) {
    return String(Math.floor(minute / 60)).padStart(2, "0") + ":" + String(minute % 60).padStart(2, "0");
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function place(top) {
    // On the clinic's start grid, inside the grid, the whole visit on it.
    const snapped = Math.round((first + top) / step) * step - first;
    return Math.max(0, Math.min(snapped, Math.floor((length - moving.span) / step) * step));
  }

  function where() {
    return hhmm(first + moving.top) + (byRoom ? " in " : " with ") + moving.column.dataset.heading;
  }

  function show() {
    if (!ghost) {
      ghost = document.createElement("div");
      ghost.className = "diary-ghost";
      ghost.setAttribute("aria-hidden", "true");
    }
    moving.column.querySelector(".diary-track").appendChild(ghost);
    ghost.style.setProperty("--from", String(moving.top));
    ghost.style.setProperty("--span", String(moving.span));
    ghost.textContent = "";
    const label = document.createElement("span");
    label.textContent = "Move to " + hhmm(first + moving.top);
    ghost.appendChild(label);
  }

  function begin(block, keyboard) {
    moving = {
      block: block,
      column: block.closest(".diary-column"),
      top: Number(block.style.getPropertyValue("--from")),
      span: Number(block.style.getPropertyValue("--span")),
      keyboard: keyboard,
    };
    moving.from = {column: moving.column, top: moving.top};
    block.classList.add("diary-moving");
    show();
  }

  function stop() {
    if (!moving) return;
    moving.block.classList.remove("diary-moving", "diary-dragging");
    if (ghost) ghost.remove();
    moving = null;
  }

  function finish() {
    const m = moving;
    if (m.column === m.from.column && m.top === m.from.top) {
      stop();
      say("Not moved: that is where the booking is now.");
      return;
    }
    const url = new URL(m.block.dataset.move, window.location.href);
    url.searchParams.set("day", m.column.dataset.day);
    url.searchParams.set("time", hhmm(first + m.top));
    const practitioner = byRoom ? m.block.dataset.practitioner : m.column.dataset.practitioner;
    url.searchParams.set("practitioner", practitioner);
    url.searchParams.set("seen", m.block.dataset.seen);
    if (byRoom) url.searchParams.set("by", "room");
    say("Checking the move of " + m.block.dataset.name + " to " + where() + "…");
    window.location.assign(url.href);
  }

  // --- Keyboard --------------------------------------------------------------------------------
  diary.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (moving && moving.keyboard) {
      const index = targets.indexOf(moving.column);
      if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        moving.top = place(moving.top + (event.key === "ArrowUp" ? -step : step));
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && targets.length > 1) {
        const next = index + (event.key === "ArrowLeft" ? -1 : 1);
        if (next >= 0 && next < targets.length) moving.column = targets[next];
      } else if (event.key === "Enter") {
        event.preventDefault(); // not the link's own Enter
        finish();
        return;
      } else if (event.key === "Escape") {
        event.preventDefault();
        const name = moving.block.dataset.name;
        stop();
        say("Move of " + name + " stopped; nothing changed.");
        return;
      } else {
        return;
      }
      event.preventDefault(); // arrows move the booking, not the page
      show();
      say(where() + ". Enter to check the change, Escape to stop.");
      return;
    }
    if (event.key !== "m" && event.key !== "M") return;
    const block = event.target.closest && event.target.closest("li[data-move]");
    if (!block) return;
    event.preventDefault();
    begin(block, true);
    say("Moving " + block.dataset.name + ", now " + where() + ". Arrow keys choose the new time" +
        (targets.length > 1 ? " and practitioner" : "") + "; Enter to check the change, Escape to stop.");
  });

  diary.addEventListener("focusout", function (event) {
    if (moving && moving.keyboard && !moving.block.contains(event.relatedTarget)) {
      stop();
      say("Move stopped; nothing changed.");
    }
  });

  // --- Drag (mouse or pen; on a touch screen a finger scrolls, and "Move" opens the move page) ---
  let press = null;
  diary.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || event.pointerType === "touch" || moving) return;
    const block = event.target.closest("li[data-move]");
    if (!block || event.target.closest("button, .diary-action")) return;
    press = {block: block, x: event.clientX, y: event.clientY, pointer: event.pointerId};
  });

  function columnAt(x) {
    return targets.find(function (column) {
      const box = column.getBoundingClientRect();
      return box.left <= x && x < box.right;
    });
  }

  document.addEventListener("pointermove", function (event) {
    if (!press || event.pointerId !== press.pointer) return;
    const dx = event.clientX - press.x;
    const dy = event.clientY - press.y;
    if (!moving) {
      if (Math.hypot(dx, dy) < 6) return; // a click, not a drag
      begin(press.block, false);
      press.block.classList.add("diary-dragging");
      press.top = moving.top;
      say("Dragging " + press.block.dataset.name + ".");
    }
    const track = moving.from.column.querySelector(".diary-track");
    const scale = track.getBoundingClientRect().height / length || 1; // pixels per minute
    moving.column = (!byRoom && columnAt(event.clientX)) || moving.column;
    moving.top = place(press.top + Math.round(dy / scale));
    show();
  });

  document.addEventListener("pointerup", function (event) {
    if (!press || event.pointerId !== press.pointer) return;
    press = null;
    if (!moving || moving.keyboard) return;
    justDragged = true; // the click that follows the drop opens nothing
    window.setTimeout(function () { justDragged = false; }, 0);
    finish();
  });

  document.addEventListener("pointercancel", function () {
    press = null;
    if (moving && !moving.keyboard) stop();
  });

  diary.addEventListener("click", function (event) {
    if (justDragged) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  diary.addEventListener("dragstart", function (event) {
    if (event.target.closest && event.target.closest("li[data-move]")) event.preventDefault();
  });

  // Back from the move page (the browser's page cache): no half-finished move left on screen.
  window.addEventListener("pageshow", stop);
})();
