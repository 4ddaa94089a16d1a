/* The pipeline board: drag a card to another column to move the opportunity.
   POST to the board's move URL; on refusal (exit criteria 400, stale version 409, ...) the card
   goes back and the server's message shows; the lost column first asks for the reason. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.Sortable) return;
  var text = JSON.parse(document.getElementById("board-text").textContent);
  var message = document.getElementById("board-message");
  var moveUrl = board.dataset.moveUrl;
  var query = new URLSearchParams(board.dataset.query || "");
  query.delete("view");
  if (!query.get("pipeline")) query.set("pipeline", board.dataset.pipeline);

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function showError(detail) {
    message.textContent = detail || text.error;
    message.classList.remove("d-none");
    if (window.guanxi && window.guanxi.toast) window.guanxi.toast(detail || text.error, "danger");
  }

  function clearError() {
    message.textContent = "";
    message.classList.add("d-none");
  }

  function putBack(evt) {
    var reference = evt.from.children[evt.oldIndex] || null;
    if (reference === evt.item) return;
    evt.from.insertBefore(evt.item, reference);
  }

  function applyTotals(data) {
    Object.keys(data.columns || {}).forEach(function (stageId) {
      var totals = data.columns[stageId];
      var column = board.querySelector('.gx-board-column[data-stage="' + stageId + '"]');
      if (!column) return;
      var set = function (name, value) {
        var element = column.querySelector('[data-total="' + name + '"]');
        if (element) element.textContent = value;
      };
      set("count", totals.count);
      set("total", totals.total_display);
      set("weighted", totals.weighted_display);
    });
    if (data.summary) {
      var total = document.querySelector('[data-summary="total"]');
      var weighted = document.querySelector('[data-summary="weighted"]');
      if (total) total.textContent = data.summary.total_display;
      if (weighted) weighted.textContent = data.summary.weighted_display;
    }
  }

  function send(evt, extra) {
    var body = new FormData();
    query.forEach(function (value, key) { body.append(key, value); });
    body.append("opportunity", evt.item.dataset.id);
    body.append("stage", evt.to.dataset.stage);
    body.append("version", evt.item.dataset.version);
    Object.keys(extra || {}).forEach(function (key) { body.append(key, extra[key]); });
    evt.item.classList.add("gx-card-busy");
    return fetch(moveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: {} };
    }).then(function (result) {
      evt.item.classList.remove("gx-card-busy");
      return result;
    });
  }

  function finish(evt, result) {
    if (result.ok) {
      clearError();
      evt.item.dataset.version = result.data.version;
      applyTotals(result.data);
      if (result.data.is_closed) evt.item.remove();
      return;
    }
    putBack(evt);
    showError(result.data.detail);
  }

  // The lost column: ask for the reason and a note first.
  var dialogElement = document.getElementById("board-lost-dialog");
  var dialogForm = document.getElementById("board-lost-form");
  var dialog = dialogElement && window.bootstrap ? new window.bootstrap.Modal(dialogElement) : null;
  var pending = null;

  function askWhyLost(evt) {
    if (!dialog) {
      putBack(evt);
      showError(text.reason);
      return;
    }
    pending = evt;
    dialogForm.reset();
    document.getElementById("board-lost-name").textContent = evt.item.dataset.name || "";
    dialog.show();
  }

  if (dialogForm) {
    dialogForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!pending) return;
      var evt = pending;
      pending = null;
      dialog.hide();
      send(evt, {
        reason: dialogForm.elements.reason.value,
        note: dialogForm.elements.note.value
      }).then(function (result) { finish(evt, result); });
    });
    dialogElement.addEventListener("hidden.bs.modal", function () {
      if (pending) {
        putBack(pending);
        pending = null;
      }
    });
  }

  board.querySelectorAll(".gx-board-cards").forEach(function (list) {
    var open = list.dataset.kind === "open";
    window.Sortable.create(list, {
      group: { name: "board", pull: open, put: true },
      draggable: ".gx-card-movable",
      sort: false,
      animation: 150,
      ghostClass: "gx-card-ghost",
      onEnd: function (evt) {
        if (evt.from === evt.to) return;
        if (evt.to.dataset.kind === "lost") {
          askWhyLost(evt);
          return;
        }
        send(evt).then(function (result) { finish(evt, result); });
      }
    });
  });
})();
