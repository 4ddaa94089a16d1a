/* Guanxi: glue between htmx, Bootstrap and the server. No framework, no build step. */
(function () {
  "use strict";

  var lang = (document.documentElement.lang || "zh-hans").toLowerCase();
  var isZh = lang.indexOf("zh") === 0;
  var text = {
    confirm: isZh ? "确定吗？" : "Are you sure?",
    failed: isZh ? "操作失败，请重试。" : "Something went wrong. Please try again.",
    forbidden: isZh ? "您无权执行此操作。" : "You are not allowed to do this.",
    notFound: isZh ? "记录不存在或您无权查看。" : "The record does not exist or you may not see it.",
    conflict: isZh ? "记录已被他人修改，请刷新后重试。" : "Someone else changed this record. Reload it and try again.",
    offline: isZh ? "无法连接服务器。" : "The server cannot be reached.",
    close: isZh ? "关闭" : "Close"
  };

  /* A toast in the bottom-right corner. level: success | info | warning | danger */
  function toast(message, level) {
    var container = document.getElementById("gx-toasts");
    if (!container || !message) return;
    var element = document.createElement("div");
    element.className = "toast align-items-center border-0 text-bg-" + (level || "info");
    element.setAttribute("role", level === "danger" ? "alert" : "status");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn-close btn-close-white me-2 m-auto";
    button.setAttribute("data-bs-dismiss", "toast");
    button.setAttribute("aria-label", text.close);
    row.appendChild(body);
    row.appendChild(button);
    element.appendChild(row);
    container.appendChild(element);
    element.addEventListener("hidden.bs.toast", function () { element.remove(); });
    if (window.bootstrap) {
      new bootstrap.Toast(element, { delay: level === "danger" ? 8000 : 4000 }).show();
    }
  }
  window.guanxi = window.guanxi || {};
  window.guanxi.toast = toast;

  function levelOf(tag) {
    if (tag === "error") return "danger";
    return tag || "info";
  }

  /* Server events, sent as HX-Trigger: {"showMessage": "..."} or
     {"showMessage": {"message": "...", "level": "success"}} or
     {"messages": [{"message": "...", "tags": "success"}, ...]} */
  document.body.addEventListener("showMessage", function (event) {
    var detail = event.detail || {};
    var value = detail.value !== undefined ? detail.value : detail;
    if (typeof value === "string") toast(value, "success");
    else toast(value.message || value.text, levelOf(value.level || value.tags));
  });
  document.body.addEventListener("messages", function (event) {
    var detail = event.detail || {};
    var list = detail.value || detail.messages || detail;
    if (!Array.isArray(list)) return;
    list.forEach(function (item) { toast(item.message, levelOf(item.tags || item.level)); });
  });
  document.body.addEventListener("notificationsChanged", function (event) {
    var badge = document.getElementById("gx-unread-badge");
    var count = event.detail && event.detail.value !== undefined ? event.detail.value : null;
    if (badge && count !== null) {
      if (Number(count) > 0) badge.firstChild.nodeValue = Number(count) > 99 ? "99+" : String(count);
      else badge.remove();
    }
  });

  /* Errors from htmx requests: say what happened instead of doing nothing. */
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var message = text.failed;
    if (status === 403) message = text.forbidden;
    else if (status === 404) message = text.notFound;
    else if (status === 409) message = text.conflict;
    toast(message, "danger");
  });
  document.body.addEventListener("htmx:sendError", function () { toast(text.offline, "danger"); });

  /* Confirm before destructive submits: <form data-confirm="..."> or <button data-confirm>. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question !== null && question !== undefined) {
      if (!window.confirm(question || text.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm") || text.confirm)) {
      event.preventDefault();
    }
  });

  /* <select data-autosubmit> submits its form when changed. */
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  /* Close the search dropdown on Escape or a click elsewhere. */
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var dropdown = document.getElementById("search-dropdown");
      if (dropdown) dropdown.innerHTML = "";
    }
  });
  document.addEventListener("click", function (event) {
    var dropdown = document.getElementById("search-dropdown");
    if (dropdown && dropdown.innerHTML && !event.target.closest(".gx-search")) dropdown.innerHTML = "";
  });

  /* Enable Bootstrap tooltips in swapped-in content as well as on load. */
  function tooltips(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      bootstrap.Tooltip.getOrCreateInstance(el);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tooltips(document); });
  document.body.addEventListener("htmx:afterSwap", function (event) { tooltips(event.target); });

  // Look-up selects: a new page of matches must not drop what the user already chose.
  function lookupSelect(target) {
    if (!target || !target.closest) { return null; }
    var select = target.tagName === "SELECT" ? target : target.closest("select");
    return select && select.closest(".gx-lookup") ? select : null;
  }
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var select = lookupSelect(event.detail.target);
    if (!select) { return; }
    var chosen = Array.prototype.filter.call(select.options, function (option) {
      return option.selected && option.value && event.detail.target.contains(option);
    });
    select._gxChosen = chosen.map(function (option) { return option.cloneNode(true); });
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var select = lookupSelect(event.target);
    if (!select || !select._gxChosen) { return; }
    select._gxChosen.forEach(function (kept) {
      var match = Array.prototype.find.call(select.options, function (option) {
        return option.value === kept.value;
      });
      if (match) {
        match.selected = true;
      } else {
        kept.selected = true;
        select.insertBefore(kept, select.firstChild);
      }
    });
    select._gxChosen = null;
  });
})();
