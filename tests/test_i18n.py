from server import catalogues
from server.i18n import Translator, load_catalogues, negotiate
from server.settings import LANGUAGES, ROOT


def test_template_is_fresh_and_every_language_is_complete() -> None:
    problems = catalogues.check()
    assert not problems.stale_template, "run `homeward messages update` and commit the .pot"
    assert problems.untranslated == {language: [] for language in LANGUAGES}


def test_a_missing_translation_is_detected(tmp_path, monkeypatch) -> None:
    # The check must be able to fail: drop one translation and look.
    import shutil

    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    po = tmp_path / "locales" / "kk" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    start = text.index('msgid "Welcome to Homeward"')
    end = text.index("\n\n", start) if "\n\n" in text[start:] else len(text)
    po.write_text(text[:start] + 'msgid "Welcome to Homeward"\nmsgstr ""' + text[end:])
    monkeypatch.setattr(catalogues, "ROOT", tmp_path)
    monkeypatch.setattr(catalogues, "POT", tmp_path / "locales" / "messages.pot")
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    problems = catalogues.check()
    assert "Welcome to Homeward" in problems.untranslated["kk"]


def test_negotiation_order() -> None:
    both = {"accept_language": "fr", "fallback": "en"}
    assert negotiate(user_language="ar", cookie_language="kk", **both) == "ar"
    assert negotiate(user_language=None, cookie_language="kk", **both) == "kk"
    assert negotiate(user_language=None, cookie_language=None, **both) == "fr"
    assert (
        negotiate(user_language=None, cookie_language="xx", accept_language="ru-RU", fallback="en")
        == "ru"
    )
    assert (
        negotiate(user_language=None, cookie_language=None, accept_language="de", fallback="kk")
        == "kk"
    )


def test_dates_numbers_and_plurals_follow_the_language() -> None:
    from datetime import UTC, datetime

    catalogues_ = load_catalogues(ROOT / "locales")
    moment = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)
    ar = Translator("ar", catalogues_["ar"], "Africa/Tunis")
    ru = Translator("ru", catalogues_["ru"], "Asia/Almaty")
    assert ar.direction == "rtl" and ru.direction == "ltr"
    # 21:30 UTC is 22:30 in Tunis and already 02:30 the next day in Almaty (UTC+5).
    assert "2" in ru.datetime(moment) and "мар" in ru.datetime(moment)
    assert ru.time(moment) == "02:30"
    assert ar.number(1234567) == "1,234,567" or "٬" in ar.number(1234567)
    assert ru.number(1234567.5) == "1\xa0234\xa0567,5"
