// shopwindow pages: small progressive enhancements. Every form works without this file.
(function () {
  "use strict";

  // Forms with data-confirm ask first (delete post, block, delete account).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.getAttribute("data-enhance") === "card") {
      enhanceCardAction(event, form);
    }
  });

  // Like / repost / bookmark without a page reload: POST the same form with fetch and swap
  // in the post's updated action bar from the server-rendered card.
  function enhanceCardAction(event, form) {
    if (!window.fetch || !window.FormData || !window.DOMParser) return;
    event.preventDefault();
    var article = form.closest("article.post");
    var button = form.querySelector("button");
    if (!article || !button || button.disabled) return;
    var actionClass = Array.prototype.find.call(button.classList, function (c) {
      return c.indexOf("act-") === 0;
    });
    button.classList.add("busy");
    button.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("article.post .post-actions");
        var old = article.querySelector(".post-actions");
        if (!fresh || !old) throw new Error("unexpected response");
        // Keep the page's own "next" values (the fragment was rendered for the POST URL).
        var nexts = old.querySelectorAll("input[name=next]");
        var freshNexts = fresh.querySelectorAll("input[name=next]");
        for (var i = 0; i < freshNexts.length && i < nexts.length; i++) {
          freshNexts[i].value = nexts[i].value;
        }
        old.replaceWith(document.importNode(fresh, true));
        if (actionClass) {
          var again = article.querySelector(".post-actions ." + actionClass);
          if (again) again.focus();
        }
      })
      .catch(function () {
        // Fall back to the ordinary form submission (full page round trip).
        form.removeAttribute("data-enhance");
        form.submit();
      });
  }
})();
