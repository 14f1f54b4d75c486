"""The upload form: a CSV file or pasted addresses, checked before a job is created."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest

from hygiene.services import (
    ParsedUpload,
    UploadError,
    max_upload_bytes,
    paste_parse,
    upload_parse,
)
from tenants.forms import TenantChoiceMixin

# Names a browser may send for things that are not CSV; refused before reading them.
REFUSED_EXTENSIONS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers", ".pdf", ".zip", ".gz", ".doc", ".docx")


class ValidationUploadForm(TenantChoiceMixin, forms.Form):
    file = forms.FileField(
        required=False,
        label="CSV file",
        help_text="UTF-8 CSV with an “email” column (or addresses in any one column); a header is optional.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
    )
    addresses = forms.CharField(
        required=False,
        label="Or paste addresses",
        help_text="One address per line; paste up to about 2 MB, upload longer lists as a file.",
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "ana@example.com\nbob@example.org"}),
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_tenant(request, required=True)
        self.parsed: ParsedUpload | None = None

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        upload = data.get("file")
        pasted = (data.get("addresses") or "").strip()
        if upload and pasted:
            raise forms.ValidationError("Upload a file or paste addresses, not both.")
        if not upload and not pasted:
            raise forms.ValidationError("Choose a CSV file or paste some addresses.")
        try:
            if upload:
                self.parsed = self._parse_file(upload)
            else:
                self.parsed = paste_parse(text=pasted)
        except UploadError as exc:
            self.add_error("file" if upload else "addresses", str(exc))
        return data

    def _parse_file(self, upload) -> ParsedUpload:
        name = upload.name or ""
        if name.lower().endswith(REFUSED_EXTENSIONS):
            raise UploadError(f"“{name}” is not a CSV file. Save it as “CSV UTF-8” and upload that.")
        limit = max_upload_bytes()
        if upload.size > limit:
            raise UploadError(
                f"The file is larger than {limit // (1024 * 1024)} MB; split it and upload the parts."
            )
        return upload_parse(data=upload.read(), filename=name)
