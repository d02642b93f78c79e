// Trang chính: the time on air counts up and the time remaining counts down every second
// between the page's 2-second refreshes. The server's clock is the reference ("data-now" is its
// time when it drew the part), so a phone whose clock is wrong still shows the right figures.
function tick() {
  document.querySelectorAll("[data-count]").forEach((element) => {
    const base = element.closest("[data-now]");
    if (!base) return;
    if (!base.dataset.drawn) base.dataset.drawn = String(Date.now());
    const now = Date.parse(base.dataset.now) + (Date.now() - Number(base.dataset.drawn));
    const seconds = element.dataset.count === "up"
      ? Math.floor((now - Date.parse(element.dataset.from)) / 1000)
      : Math.ceil((Date.parse(element.dataset.to) - now) / 1000);
    const s = Math.max(0, seconds);
    element.textContent = String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  });
}
document.addEventListener("htmx:afterSettle", tick);
document.addEventListener("DOMContentLoaded", tick);
setInterval(tick, 1000);
