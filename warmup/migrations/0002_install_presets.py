from django.db import migrations


def install(apps, schema_editor):
    from warmup.presets import PRESETS

    Plan = apps.get_model("warmup", "WarmupPlan")
    Step = apps.get_model("warmup", "WarmupStep")
    for preset in PRESETS:
        plan, created = Plan.objects.get_or_create(
            preset_key=preset.key, defaults={"name": preset.name, "description": preset.description}
        )
        if not created:
            continue
        Step.objects.bulk_create(
            Step(
                plan=plan,
                position=i,
                daily_limit=s.daily,
                hourly_limit=s.hourly,
                gmail_daily=s.providers.get("gmail"),
                microsoft_daily=s.providers.get("microsoft"),
                yahoo_daily=s.providers.get("yahoo"),
            )
            for i, s in enumerate(preset.steps, start=1)
        )


class Migration(migrations.Migration):
    dependencies = [("warmup", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
