/* The activities calendar: FullCalendar fed by /api/v1/activities/calendar/, several people
   overlaid with a colour each, drag / resize to reschedule, select an empty slot to create.
   Every text comes translated from the page (#calendar-config). */
(function () {
  "use strict";

  var configElement = document.getElementById("calendar-config");
  var element = document.getElementById("calendar");
  if (!configElement || !element || !window.FullCalendar) return;
  var config = JSON.parse(configElement.textContent);
  var texts = config.texts || {};
  var selected = (config.selected || [config.me]).slice();
  var typeIcons = {};
  (config.types || []).forEach(function (type) { typeIcons[type.value] = type.icon; });

  function toast(message, level) {
    if (window.guanxi && window.guanxi.toast) window.guanxi.toast(message, level);
  }

  function pad(number) { return String(number).padStart(2, "0"); }
  function localDate(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }
  function localDateTime(date) {
    return localDate(date) + "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }
  function addDays(date, days) {
    var copy = new Date(date.getTime());
    copy.setDate(copy.getDate() + days);
    return copy;
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (key) {
      if (fields[key] !== null && fields[key] !== undefined) body.append(key, fields[key]);
    });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrfToken, "X-Requested-With": "XMLHttpRequest" },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || texts.failed);
          error.status = response.status;
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  }

  /* --- events ------------------------------------------------------------------------------ */
  function loadEvents(info, success, failure) {
    var params = new URLSearchParams({
      start: info.startStr,
      end: info.endStr,
      users: selected.join(",")
    });
    fetch(config.eventsUrl + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || texts.loadFailed);
        return data;
      });
    }).then(function (events) {
      hideAlert();
      success(events.map(function (event) {
        event.classNames = [];
        if (event.busy) event.classNames.push("gx-event-busy");
        if (event.status === "done") event.classNames.push("gx-event-done");
        if (!event.url) delete event.url;
        return event;
      }));
    }).catch(function (error) {
      showAlert(error.message || texts.loadFailed);
      failure(error);
    });
  }

  var alertBox = document.getElementById("calendar-alert");
  function showAlert(message) {
    if (!alertBox) return;
    alertBox.textContent = message;
    alertBox.classList.remove("d-none");
  }
  function hideAlert() { if (alertBox) alertBox.classList.add("d-none"); }

  function applySaved(event, saved) {
    event.setExtendedProp("version", saved.version);
    event.setDates(saved.start, saved.end, { allDay: saved.allDay });
  }

  function reschedule(info) {
    var event = info.event;
    var url = config.rescheduleUrl.replace("/0/", "/" + event.id + "/");
    post(url, {
      start: event.allDay ? localDate(event.start) : event.start.toISOString(),
      end: event.end ? (event.allDay ? localDate(event.end) : event.end.toISOString()) : "",
      all_day: event.allDay ? "true" : "false",
      version: event.extendedProps.version
    }).then(function (data) {
      if (data.event) applySaved(event, data.event);
      toast(texts.saved, "success");
    }).catch(function (error) {
      info.revert();
      if (error.status === 409 && error.data && error.data.current_version) {
        // Someone else saved it: show what is there now.
        calendar.refetchEvents();
      }
      toast(error.message || texts.failed, "danger");
    });
  }

  /* --- quick create ------------------------------------------------------------------------ */
  var modalElement = document.getElementById("calendar-create");
  var modal = modalElement && window.bootstrap ? new bootstrap.Modal(modalElement) : null;
  var form = document.getElementById("calendar-create-form");
  var startInput = document.getElementById("calendar-create-start");
  var endInput = document.getElementById("calendar-create-end");
  var allDayInput = document.getElementById("calendar-create-all-day");
  var kindInput = document.getElementById("calendar-create-kind");
  var subjectInput = document.getElementById("calendar-create-subject");
  var errorBox = document.getElementById("calendar-create-error");

  function setAllDayInputs(allDay) {
    var start = startInput.value;
    var end = endInput.value;
    startInput.type = allDay ? "date" : "datetime-local";
    endInput.type = allDay ? "date" : "datetime-local";
    startInput.value = allDay ? start.slice(0, 10) : (start.length === 10 ? start + "T09:00" : start);
    endInput.value = allDay ? end.slice(0, 10) : (end.length === 10 ? end + "T10:00" : end);
  }

  function openCreate(selection) {
    if (!modal) return;
    form.reset();
    errorBox.classList.add("d-none");
    var allDay = selection.allDay;
    allDayInput.checked = allDay;
    startInput.type = endInput.type = allDay ? "date" : "datetime-local";
    if (allDay) {
      startInput.value = localDate(selection.start);
      // FullCalendar's end is exclusive; people read the last day.
      endInput.value = localDate(addDays(selection.end || addDays(selection.start, 1), -1));
    } else {
      startInput.value = localDateTime(selection.start);
      endInput.value = selection.end ? localDateTime(selection.end) : "";
    }
    if (kindInput && !allDay && kindInput.querySelector("option[value=meeting]")) kindInput.value = "meeting";
    modal.show();
    modalElement.addEventListener("shown.bs.modal", function () { subjectInput.focus(); }, { once: true });
  }

  if (form) {
    allDayInput.addEventListener("change", function () { setAllDayInputs(allDayInput.checked); });
    form.addEventListener("submit", function (submitEvent) {
      submitEvent.preventDefault();
      var allDay = allDayInput.checked;
      var start, end;
      if (allDay) {
        start = startInput.value;
        end = endInput.value ? localDate(addDays(new Date(endInput.value + "T00:00"), 1)) : "";
      } else {
        start = startInput.value ? new Date(startInput.value).toISOString() : "";
        end = endInput.value ? new Date(endInput.value).toISOString() : "";
      }
      post(config.createUrl, {
        subject: subjectInput.value,
        kind: kindInput.value,
        start: start,
        end: end,
        all_day: allDay ? "true" : "false"
      }).then(function (data) {
        modal.hide();
        if (selected.indexOf(config.me) === -1) {
          var box = document.getElementById("person-" + config.me);
          if (box) box.checked = true;
          selected.push(config.me);
          calendar.refetchEvents();
        } else if (data.event) {
          var sources = calendar.getEventSources();
          calendar.addEvent(data.event, sources.length ? sources[0] : undefined);
        }
        toast(texts.created, "success");
      }).catch(function (error) {
        var messages = [];
        var errors = (error.data && error.data.errors) || {};
        Object.keys(errors).forEach(function (key) { messages = messages.concat(errors[key]); });
        errorBox.textContent = messages.length ? messages.join(" ") : error.message;
        errorBox.classList.remove("d-none");
      });
    });
  }

  /* --- the calendar ------------------------------------------------------------------------ */
  var calendar = new FullCalendar.Calendar(element, {
    locale: config.locale,
    initialView: config.initialView,
    initialDate: config.initialDate || undefined,
    height: "auto",
    nowIndicator: true,
    navLinks: true,
    dayMaxEvents: true,
    weekNumbers: false,
    firstDay: 1,
    editable: false,
    selectable: !!config.canCreate,
    selectMirror: true,
    defaultTimedEventDuration: "00:30",
    headerToolbar: {
      left: "prev,next today",
      center: "title",
      right: "timeGridDay,timeGridWeek,dayGridMonth,listWeek,multiMonthYear"
    },
    buttonText: {
      today: texts.today,
      day: texts.day,
      week: texts.week,
      month: texts.month,
      list: texts.list,
      year: texts.year
    },
    allDayText: texts.allDay,
    noEventsText: texts.noEvents,
    views: {
      multiMonthYear: { multiMonthMaxColumns: 3, dayMaxEvents: 2 }
    },
    events: loadEvents,
    eventDrop: reschedule,
    eventResize: reschedule,
    select: function (selection) {
      calendar.unselect();
      openCreate(selection);
    },
    eventDidMount: function (info) {
      var props = info.event.extendedProps;
      var person = (config.people || []).filter(function (p) { return p.id === props.user; })[0];
      info.el.title = info.event.title + (person ? " · " + person.name : "");
      var icon = typeIcons[props.kind];
      var title = info.el.querySelector(".fc-event-title, .fc-list-event-title a, .fc-list-event-title");
      if (icon && title && !title.querySelector(".bi")) {
        var i = document.createElement("i");
        i.className = "bi " + icon + " me-1";
        i.setAttribute("aria-hidden", "true");
        title.insertBefore(i, title.firstChild);
      }
    },
    datesSet: function (info) { remember(info.view); }
  });
  calendar.render();

  function remember(view) {
    if (!window.history || !window.history.replaceState) return;
    var params = new URLSearchParams(window.location.search);
    params.set("users", selected.join(","));
    params.set("view", view.type);
    params.set("date", localDate(calendar.getDate()));
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString() + window.location.hash);
  }

  /* --- people picker ----------------------------------------------------------------------- */
  var count = document.getElementById("calendar-people-count");
  document.querySelectorAll(".gx-person").forEach(function (box) {
    box.addEventListener("change", function () {
      selected = Array.prototype.map.call(
        document.querySelectorAll(".gx-person:checked"),
        function (checked) { return Number(checked.value); }
      );
      if (!selected.length) {
        selected = [config.me];
        var mine = document.getElementById("person-" + config.me);
        if (mine) mine.checked = true;
      }
      if (count) count.textContent = String(selected.length);
      calendar.refetchEvents();
      remember(calendar.view);
    });
  });
  var filter = document.getElementById("calendar-people-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      document.querySelectorAll(".gx-calendar-people li").forEach(function (item) {
        item.classList.toggle("d-none", needle !== "" && item.dataset.name.indexOf(needle) === -1);
      });
    });
  }

  /* --- the subscription link --------------------------------------------------------------- */
  var copyButton = document.getElementById("calendar-feed-copy");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var input = document.getElementById(copyButton.dataset.copyTarget);
      var done = function () { toast(texts.copied, "success"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done);
      } else {
        input.select();
        document.execCommand("copy");
        done();
      }
    });
  }

  window.guanxiCalendar = calendar;
})();
