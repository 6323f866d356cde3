"""The API schema's generator (its own module: drf-spectacular imports DRF's settings, which
import the classes named in them, so it cannot sit beside those classes in sla_portal.api)."""

from drf_spectacular import openapi


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus ``schema_optional_fields`` on a serializer: fields some callers'
    responses leave out (staff-only fields for customers) are not marked required."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        optional = set(getattr(serializer, "schema_optional_fields", ()))
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema
