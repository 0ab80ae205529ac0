from django.contrib import admin

from .models import Office


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "city", "country", "timezone", "active"]
    list_filter = ["kind", "active", "country"]
    search_fields = ["code", "name", "name_en", "city"]
    ordering = ["kind", "country", "city"]
