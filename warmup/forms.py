import re

from django import forms

from core.forms import AriaLabelled
from warmup.models import PLAN_THRESHOLDS, ReplyRule, WarmupPlan
from warmup.services import RULE_FIELDS

THRESHOLD_FIELDS = list(PLAN_THRESHOLDS)


class AssignPlanForm(AriaLabelled, forms.Form):
    plan = forms.ModelChoiceField(queryset=WarmupPlan.objects.all())


class ActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("hold", "Hold"), ("resume", "Resume"), ("skip", "Skip step"), ("back", "Step back")]
    )
    reason = forms.CharField(max_length=300, required=False)


class CopyPlanForm(forms.Form):
    name = forms.CharField(max_length=100)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if WarmupPlan.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A plan with that name exists.")
        return name


class PlanEditForm(forms.ModelForm):
    steps_text = forms.CharField(
        label="Steps",
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="One step per line: daily, hourly[, gmail daily, microsoft daily, yahoo daily]",
    )

    class Meta:
        model = WarmupPlan
        fields = ["name", "description", *THRESHOLD_FIELDS]

    def clean_steps_text(self) -> list[dict[str, int | None]]:
        steps, errors = [], []
        for n, raw in enumerate(self.cleaned_data["steps_text"].splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [p.strip().replace("_", "") for p in re.split(r"[,;\s]+", line) if p.strip()]
            try:
                values = [int(p) if p not in ("", "-") else None for p in parts]
            except ValueError:
                errors.append(f"line {n}: numbers only ('{raw.strip()}')")
                continue
            if len(values) < 2 or len(values) > 5 or values[0] is None or values[1] is None:
                errors.append(f"line {n}: expected daily, hourly and up to three provider limits")
                continue
            if values[0] <= 0 or values[1] <= 0:
                errors.append(f"line {n}: limits must be positive")
                continue
            values += [None] * (5 - len(values))
            steps.append(
                {
                    "daily_limit": values[0],
                    "hourly_limit": values[1],
                    "gmail_daily": values[2],
                    "microsoft_daily": values[3],
                    "yahoo_daily": values[4],
                }
            )
        if errors:
            raise forms.ValidationError(errors)
        if not steps:
            raise forms.ValidationError("A plan needs at least one step.")
        return steps

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        for f in THRESHOLD_FIELDS:
            value = data.get(f)
            if value is not None and not 0 <= value <= 1:
                self.add_error(f, "A rate between 0 and 1 (0.02 = 2%).")
        return data


class ReplyRuleForm(forms.ModelForm):
    class Meta:
        model = ReplyRule
        fields = RULE_FIELDS  # what rule_save audits: the same list

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data["pattern"]
        try:
            re.compile(pattern)
        except re.error as exc:
            raise forms.ValidationError(f"Not a valid regular expression: {exc}") from exc
        if "\n" in pattern or "\r" in pattern:
            raise forms.ValidationError("A reply pattern is one line (PMTA reads it from one config line).")
        return pattern

    def clean_slow_factor(self) -> float:
        factor = self.cleaned_data["slow_factor"]
        if not 0 < factor < 1:
            raise forms.ValidationError("Keep a share between 0 and 1 (0.5 = half the provider limit).")
        return factor
