/* Accessibility for Flask-Admin's forms: nested items added in the page get labels that point at their
   own fields (before the searchable drop-downs copy them), and are added with a real button. */
(function () {
  "use strict";

  /* Flask-Admin renames a new item's fields to "<item id>-<name>" but leaves its labels' "for" alone. */
  function pointLabelsAtOwnFields(item) {
    var prefix = item.id;
    if (!prefix) { return; }
    item.querySelectorAll("label[for]").forEach(function (label) {
      var target = label.getAttribute("for");
      if (target.indexOf(prefix + "-") === 0) { return; }
      var own = document.getElementById(prefix + "-" + target);
      if (own && item.contains(own)) { label.setAttribute("for", own.id); }
    });
    /* A plain value in a list (an area, a recipient) has no label of its own: name it after its item. */
    var legend = item.querySelector("legend");
    item.querySelectorAll("input:not([type=hidden]):not([aria-label]), textarea:not([aria-label])").forEach(function (field) {
      if (!field.labels || field.labels.length === 0) {
        field.setAttribute("aria-label", legend ? legend.firstChild.textContent.trim() : "New item");
      }
    });
    item.querySelectorAll("[aria-describedby]").forEach(function (field) {
      var ids = field.getAttribute("aria-describedby").split(/\s+/).map(function (id) {
        return document.getElementById(prefix + "-" + id) ? prefix + "-" + id : id;
      });
      field.setAttribute("aria-describedby", ids.join(" "));
    });
  }

  function wrapForms() {
    var form = window.faForm;
    if (!form || form.e4eWrapped) { return; }
    form.e4eWrapped = true;
    var applyGlobalStyles = form.applyGlobalStyles;
    form.applyGlobalStyles = function (parent) {
      var node = parent && parent.jquery ? parent[0] : parent;
      if (node && node.classList && node.classList.contains("inline-field")) { pointLabelsAtOwnFields(node); }
      return applyGlobalStyles.apply(this, arguments);
    };
  }

  /* The searchable drop-downs' "×" on each chosen item has no words; name it after the item. */
  function nameRemoveLinks(root) {
    var scope = root.querySelectorAll ? root : document;
    scope.querySelectorAll("a.select2-search-choice-close:not([aria-label])").forEach(function (link) {
      var choice = link.closest(".select2-search-choice");
      link.setAttribute("aria-label", "Remove " + (choice ? choice.textContent.trim() : "this choice"));
    });
    /* A list's filter rows (Flask-Admin's filters.js): "× Status", a comparison and a value, none labelled. */
    scope.querySelectorAll("a.remove-filter:not([aria-label])").forEach(function (link) {
      var name = link.textContent.replace("\u00d7", "").trim();
      var row = link.closest("tr");
      link.setAttribute("aria-label", "Remove the filter on " + name);
      if (!row) { return; }
      row.querySelectorAll("select.filter-op:not([aria-label])").forEach(function (op) {
        op.setAttribute("aria-label", name + ": how to compare");
      });
      row.querySelectorAll("input.filter-val:not([aria-label]), select.filter-val:not([aria-label]), input[name^=flt]:not([type=hidden]):not([aria-label])").forEach(function (value) {
        value.setAttribute("aria-label", name + ": value");
      });
    });
  }
  nameRemoveLinks(document);

  /* The server's own messages (the error summary and the one beside each field) instead of the browser's
     bubbles, which vanish, cannot be styled and are not shown together (GOV.UK: novalidate). */
  document.querySelectorAll("form.admin-form, .security-page form").forEach(function (form) { form.noValidate = true; });
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { if (node.nodeType === 1) { nameRemoveLinks(node); } });
    });
  }).observe(document.body, {childList: true, subtree: true});

  wrapForms();
  if (window.jQuery) { window.jQuery(document).on("adminFormReady", wrapForms); }

  document.addEventListener("click", function (event) {
    var add = event.target.closest(".inline-add-field");
    if (add && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(add, add.getAttribute("data-field"));
    }
  }, true);
})();
