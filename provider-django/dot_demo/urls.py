import hashlib
import json

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from oauth2_provider import urls as toolkit
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import IntrospectTokenView


class IntrospectWithSubject(IntrospectTokenView):
    """RFC 7662 introspection that also names the person (`sub`, as in the ID token) and the
    issuer: stock django-oauth-toolkit answers only `username`, and the demo API identifies
    people by `sub`, as a resource server should."""

    @staticmethod
    def get_token_response(token_value=None):
        response = IntrospectTokenView.get_token_response(token_value)
        data = json.loads(response.content) if response.status_code == 200 else {}
        if data.get("active") is not True:
            return response
        # Looked up as the stock view looks it up, by checksum.
        checksum = hashlib.sha256(token_value.encode("utf-8")).hexdigest()
        token = get_access_token_model().objects.select_related("user").filter(token_checksum=checksum).first()
        if token is None or token.user is None:
            return response
        data.update(sub=str(token.user.pk), iss=settings.ISSUER, token_type="Bearer")
        return JsonResponse(data)


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/introspect/", IntrospectWithSubject.as_view()),
    path("o/", include((toolkit.base_urlpatterns + toolkit.oidc_urlpatterns, "oauth2_provider"))),
    # RFC 8414's own location, at the server root (the only document that lists the
    # revocation and introspection endpoints).
    path("", include((toolkit.metadata_urlpatterns, "oauth2_provider"), namespace="metadata")),
]
