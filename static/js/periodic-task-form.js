/* The admin's form of a periodic task (django-celery-beat): shows the chosen crontab in
 * words under the field, as the package's own inline script does (refused by our
 * Content-Security-Policy). The words come from the page (#readable-crontabs, a JSON data
 * block) and are inserted as text. */
(function () {
  "use strict";
  var $ = window.django && window.django.jQuery;
  var data = document.getElementById("readable-crontabs");
  if (!$ || !data) return;
  var readable = JSON.parse(data.textContent);
  var help = $(".field-crontab .help");
  var original = help.html();

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var words = readable[$("#id_crontab").val()];
    help.html(original);
    if (words) help.append($("<br>"), document.createTextNode("Translation: " + words));
  });
})();
