/* A <select data-navigate> whose options are addresses goes to the one chosen (the office
 * switch of the staff agenda). A file of its own: the Content-Security-Policy allows no
 * inline event handler. */
(function () {
  "use strict";
  var selects = document.querySelectorAll("select[data-navigate]");
  for (var i = 0; i < selects.length; i++) {
    selects[i].addEventListener("change", function (event) {
      window.location.href = event.target.value;
    });
  }
})();
