// The slot form's bulletin list: add, move up/down, remove. Without JavaScript the form takes a
// comma-separated list instead (<noscript>).
document.addEventListener("click", (event) => {
  const button = event.target.closest("#play-list button, #play-add-button");
  if (!button) return;
  if (button.id === "play-add-button") {
    const select = document.getElementById("play-add");
    const item = document.getElementById("play-item").content.firstElementChild.cloneNode(true);
    item.querySelector("input").value = select.value;
    item.querySelector("span").textContent = select.value;
    document.getElementById("play-list").appendChild(item);
    return;
  }
  const item = button.closest("li");
  if (button.classList.contains("move-up") && item.previousElementSibling) item.parentNode.insertBefore(item, item.previousElementSibling);
  else if (button.classList.contains("move-down") && item.nextElementSibling) item.parentNode.insertBefore(item.nextElementSibling, item);
  else if (button.classList.contains("remove")) item.remove();
});
