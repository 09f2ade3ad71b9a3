// The live web chat: asks the server to tell when this chat's stored transcript changes
// (a reminder, a coach's answer, a broadcast) and shows it without a reload. Without
// JavaScript the page works the same, by reloading it.
"use strict";
(function () {
  const main = document.getElementById("chat");
  if (!main || !window.fetch) return;
  let version = main.dataset.version;

  async function wait() {
    let pause = 0;
    try {
      const response = await fetch("/chat/wait?v=" + encodeURIComponent(version), {
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status === 200) {
        const news = await response.json();
        version = news.version;
        main.innerHTML = news.html;
        document.documentElement.lang = news.lang;
        document.documentElement.dir = news.rtl ? "rtl" : "ltr";
        document.getElementById("end").scrollIntoView({ block: "end" });
      } else if (response.status !== 204) {
        pause = 30000; // no chat for this browser (cookies off): the page still reloads
      }
    } catch (error) {
      pause = 5000; // offline for a moment: ask again soon
    }
    setTimeout(wait, pause);
  }

  wait();
})();
