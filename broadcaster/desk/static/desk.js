// The slot form's bulletin list: add, move up/down, remove, and drag by the grip (⠿) with a mouse,
// a pen or a finger (pointer events; the grip has touch-action: none so a drag does not scroll
// the page). The up/down buttons stay as the keyboard and screen-reader way. Without JavaScript
// the form takes a comma-separated list instead (<noscript>).
// A form with data-confirm asks first. The question is an escaped attribute, never inline script:
// a slot's name may hold quotes, and text spliced into onsubmit="confirm('...')" would run.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("#play-list button, #play-add-button");
  if (!button) return;
  if (button.id === "play-add-button") {
    const select = document.getElementById("play-add");
    const item = document.getElementById("play-item").content.firstElementChild.cloneNode(true);
    item.querySelector("input").value = select.value;
    item.querySelector("span.play-id").textContent = select.value;
    document.getElementById("play-list").appendChild(item);
    return;
  }
  const item = button.closest("li");
  if (button.classList.contains("move-up") && item.previousElementSibling) item.parentNode.insertBefore(item, item.previousElementSibling);
  else if (button.classList.contains("move-down") && item.nextElementSibling) item.parentNode.insertBefore(item.nextElementSibling, item);
  else if (button.classList.contains("remove")) { item.remove(); return; }
  button.focus();
  announce(item);
});

// Says where an item now stands ("tin-a: 2/3") to screen readers, after a move by button or drag.
function announce(item) {
  const status = document.getElementById("play-status");
  if (!status || !item.parentNode) return;
  const position = Array.prototype.indexOf.call(item.parentNode.children, item) + 1;
  status.textContent = status.dataset.template.replace("{id}", item.querySelector("input").value)
    .replace("{position}", position).replace("{count}", item.parentNode.children.length);
}

let dragged = null;
document.addEventListener("pointerdown", (event) => {
  const grip = event.target.closest("#play-list .grip");
  if (!grip || event.button > 0) return;
  event.preventDefault();
  dragged = grip.closest("li");
  dragged.classList.add("dragging");
  grip.setPointerCapture(event.pointerId);
});
document.addEventListener("pointermove", (event) => {
  if (!dragged) return;
  event.preventDefault();
  // The neighbours move, never the dragged item itself: moving it in the DOM would lose the capture.
  for (;;) {            // a fast move may pass several items in one event
    const before = dragged.previousElementSibling;
    const after = dragged.nextElementSibling;
    if (before && event.clientY < before.getBoundingClientRect().top + before.offsetHeight / 2) {
      dragged.parentNode.insertBefore(before, after);
    } else if (after && event.clientY > after.getBoundingClientRect().top + after.offsetHeight / 2) {
      dragged.parentNode.insertBefore(after, dragged);
    } else {
      break;
    }
  }
});
for (const type of ["pointerup", "pointercancel"]) {
  document.addEventListener(type, () => {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    announce(dragged);
    dragged = null;
  });
}
