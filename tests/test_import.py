"""Bringing an organisation's caseload from a spreadsheet: preview, then all or nothing."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import date, datetime

import httpx
from openpyxl import Workbook
from starlette.applications import Starlette

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.enums import Country, Gender, Role
from server.orgs.models import Organisation
from server.participants.models import ConsentRecord, Participant
from tests.support import world
from tests.support.web import ORIGIN, csrf_token, signed_in

KK_HEADER = ",".join(
    [
        *("Толық аты-жөні", "Жынысы", "Туған күні", "Босатылу күні", "Жауапты қызметкер"),
        *("Бекітілген қызметкерлер", "Қатысушы коды\n"),
    ]
)
AR_HEADER = ",".join(
    [
        *("الاسم الكامل", "الجنس", "تاريخ الميلاد", "تاريخ الإفراج", "مسؤول إعادة الإدماج المكلَّف"),
        *("العاملون الميدانيون المكلَّفون", "رمز المشارك\n"),
    ]
)


async def kazakh_world() -> tuple[Organisation, User, User, User]:
    org = await world.organisation("Жаңа Қадам", Country.KAZAKHSTAN)
    officer = await world.user(org, Role.OFFICER, name="Айгүл Серікова", language="kk")
    worker = await world.user(org, Role.WORKER, name="Ерлан Ахметов")
    other = await world.user(org, Role.WORKER, name="Дана Нұрлан")
    return org, officer, worker, other


async def taken(org: Organisation, officer: User, code: str) -> None:
    existing = await world.participant(org, officer)
    existing.code = code
    await existing.save()


async def upload(
    client: httpx.AsyncClient, name: str, content: bytes, kind: str = "text/csv"
) -> httpx.Response:
    token = await csrf_token(client, "/import")
    return await client.post(
        "/import/preview",
        data={"csrf_token": token},
        files={"file": (name, content, kind)},
        headers={"origin": ORIGIN},
    )


async def confirm(client: httpx.AsyncClient, preview: httpx.Response) -> httpx.Response:
    fields = dict(
        re.findall(
            r'<input type="hidden" name="(content|filename|batch)" value="([^"]*)"', preview.text
        )
    )
    assert set(fields) == {"content", "filename", "batch"}, "no confirm form on the preview"
    token = await csrf_token(client, "/import")
    return await client.post(
        "/import/confirm", data={**fields, "csrf_token": token}, headers={"origin": ORIGIN}
    )


async def test_kazakh_csv_with_a_byte_order_mark_previews_then_imports(app: Starlette) -> None:
    org, officer, worker, other = await kazakh_world()
    rows = (
        "Әсел Жұмабекова,Әйел,1990-04-12,2025-11-01,,Ерлан Ахметов; Дана Нұрлан,KZ-IMP001\n"
        "Бауыржан Оспанов,ер адам,15.03.1985,01/10/2025,Айгүл Серікова,,\n"
    )
    content = "\ufeff".encode() + (KK_HEADER + rows).encode()
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "тізім.csv", content)
        assert preview.status_code == 200, preview.text
        assert "Әсел Жұмабекова" in preview.text and "Бауыржан Оспанов" in preview.text
        assert await Participant.all().count() == 0  # a preview creates nothing
        done = await confirm(client, preview)
        assert done.status_code == 303
    stored = {p.full_name: p for p in await Participant.all().prefetch_related("workers")}
    assert set(stored) == {"Әсел Жұмабекова", "Бауыржан Оспанов"}
    first, second = stored["Әсел Жұмабекова"], stored["Бауыржан Оспанов"]
    assert (first.gender, first.date_of_birth, first.release_date) == (
        Gender.FEMALE, date(1990, 4, 12), date(2025, 11, 1),
    )  # fmt: skip
    assert first.code == "KZ-IMP001"
    assert first.officer_id == officer.id  # empty column: the officer importing
    assert {w.id for w in first.workers} == {worker.id, other.id}
    assert (second.gender, second.date_of_birth, second.release_date) == (
        Gender.MALE, date(1985, 3, 15), date(2025, 10, 1),
    )  # fmt: skip
    assert second.code.startswith("KZ-") and second.code != "KZ-IMP001"
    assert second.organisation_id == org.id and second.language == "en"
    assert await ConsentRecord.all().count() == 2
    summary = await AuditEvent.get(action="caseload.imported")
    assert summary.detail == {"rows": 2, "format": "csv"}
    assert await AuditEvent.filter(action="participant.created").count() == 2
    assert "Әсел" not in str(summary.detail)


async def test_arabic_csv_without_a_byte_order_mark_by_an_admin(app: Starlette) -> None:
    org = await world.organisation("جمعية الأمل", Country.TUNISIA)
    admin = await world.user(org, Role.ADMIN, language="ar")
    officer = await world.user(org, Role.OFFICER, name="سلمى الطرابلسي")
    worker = await world.user(org, Role.WORKER, name="يوسف بن علي")
    rows = "مريم الحداد,امرأة,1992-07-30,2025-09-15,سلمى الطرابلسي,يوسف بن علي,\n"
    async with await signed_in(app, admin) as client:
        preview = await upload(client, "list.csv", (AR_HEADER + rows).encode())
        assert preview.status_code == 200, preview.text
        assert 'dir="rtl"' in preview.text and "مريم الحداد" in preview.text
        assert (await confirm(client, preview)).status_code == 303
    stored = await Participant.get(full_name="مريم الحداد").prefetch_related("workers")
    assert stored.officer_id == officer.id
    assert [w.id for w in stored.workers] == [worker.id]
    assert stored.code.startswith("TN-")


async def test_xlsx_with_excel_date_cells_in_russian(app: Starlette) -> None:
    _, officer, worker, _ = await kazakh_world()
    book = Workbook()
    sheet = book.active
    sheet.append(
        ["Полное имя", "Пол", "Дата рождения", "Дата освобождения", "Назначенные сотрудники"]
    )
    sheet.append(
        ["Ольга Ким", "Женщина", date(1988, 2, 29), datetime(2025, 12, 20, 0, 0), "Ерлан Ахметов"]
    )
    sheet.append(["Тимур Ли", "Мужчина", date(1979, 1, 1), None, None])
    sheet.append(['=CONCATENATE("A";"B")', "Женщина"])  # a formula is its text, never run
    sheet["C2"].number_format = "DD.MM.YYYY"
    buffer = io.BytesIO()
    book.save(buffer)
    async with await signed_in(app, officer) as client:
        preview = await upload(
            client,
            "caseload.xlsx",
            buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        assert preview.status_code == 200, preview.text
        assert (await confirm(client, preview)).status_code == 303
    olga = await Participant.get(full_name="Ольга Ким").prefetch_related("workers")
    assert (olga.date_of_birth, olga.release_date) == (date(1988, 2, 29), date(2025, 12, 20))
    assert [w.id for w in olga.workers] == [worker.id]
    timur = await Participant.get(full_name="Тимур Ли")
    assert (timur.date_of_birth, timur.release_date) == (date(1979, 1, 1), None)
    assert await Participant.filter(full_name='=CONCATENATE("A";"B")').exists()
    assert (await AuditEvent.get(action="caseload.imported")).detail == {
        "rows": 3,
        "format": "xlsx",
    }


async def test_every_error_of_every_row_in_the_users_language_and_nothing_imported(
    app: Starlette,
) -> None:
    org, officer, _, _ = await kazakh_world()
    officer.language = "ru"
    await officer.save()
    await taken(org, officer, "KZ-TAKEN1")
    header = (
        "Full name,Gender,Date of birth,Release date,Responsible officer,Assigned workers,Code\n"
    )
    rows = (
        "Good Row,female,1990-01-01,,,,\n"
        "Bad Row,dragon,31.02.1990,,,Nobody Known,\n"
        ",male,,,Not An Officer,,KZ-TAKEN1\n"
        "Twice,male,2999-01-01,,,,KZ-NEW2\n"
        "Twice Again,male,,,,,KZ-NEW2\n"
    )
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "list.csv", (header + rows).encode())
        assert preview.status_code == 422
        page = preview.text
        assert 'name="content"' not in page  # no way to confirm
        # Row numbers as the spreadsheet shows them (the header is row 1).
        for number in ("3", "4", "5", "6"):
            assert f'data-row="{number}"' in page
        assert 'data-row="2"' not in page
        assert page.count('class="problem"') == 8, re.findall(r"<tr data-row.*?</tr>", page, re.S)
        assert "Заполните это поле." in page  # the empty name, in Russian
        assert "Nobody Known" in page
    assert await Participant.all().count() == 1
    assert not await AuditEvent.filter(action="caseload.imported").exists()


async def test_a_preview_that_went_stale_imports_nothing(app: Starlette) -> None:
    org, officer, worker, _ = await kazakh_world()
    header = "Full name,Gender,Assigned workers,Code\n"
    rows = "One,female,Ерлан Ахметов,KZ-ONE111\nTwo,male,,KZ-TWO222\n"
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "list.csv", (header + rows).encode())
        assert preview.status_code == 200, preview.text
        # Meanwhile the second code is used elsewhere and the worker leaves.
        await taken(org, officer, "KZ-TWO222")
        worker.is_active = False
        await worker.save()
        again = await confirm(client, preview)
    assert again.status_code == 422
    assert await Participant.filter(code="KZ-ONE111").count() == 0
    assert not await AuditEvent.filter(action="caseload.imported").exists()


async def test_formulas_are_plain_text(app: Starlette) -> None:
    _, officer, _, _ = await kazakh_world()
    content = 'Full name,Gender\n"=HYPERLINK(""http://example.org"",""x"")",female\n+1+2,male\n'
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "list.csv", content.encode())
        assert preview.status_code == 200, preview.text
        assert (await confirm(client, preview)).status_code == 303
    names = set(await Participant.all().values_list("full_name", flat=True))
    assert names == {'=HYPERLINK("http://example.org","x")', "+1+2"}


async def test_limits_and_unreadable_files_get_a_clear_answer(app: Starlette) -> None:
    _, officer, _, _ = await kazakh_world()
    header = "Full name,Gender\n"
    async with await signed_in(app, officer) as client:
        too_many = await upload(client, "big.csv", (header + "A B,male\n" * 2001).encode())
        too_big = await upload(client, "big.csv", (header + "x" * 600_000 + ",male\n").encode())
        not_xlsx = await upload(client, "list.xlsx", b"PK\x03\x04 not really a workbook")
        not_csv = await upload(client, "photo.jpg", b"\xff\xd8\xff\xe0")
        no_column = await upload(client, "list.csv", b"Name of the person,Sex\nA,male\n")
        latin1 = await upload(
            client, "list.csv", "Full name,Gender\nJos\xe9,male\n".encode("latin-1")
        )
        empty = await upload(client, "list.csv", header.encode())
    for response in (too_many, too_big, not_xlsx, not_csv, no_column, latin1, empty):
        assert response.status_code == 422, response.text[:200]
        assert 'name="content"' not in response.text
    assert re.search(r"2\D?000", too_many.text)  # the limit, as the reader writes numbers
    assert "Толық аты-жөні" in no_column.text  # says which column is missing, in Kazakh
    assert await Participant.all().count() == 0


async def test_the_template_names_the_columns_in_the_users_language(app: Starlette) -> None:
    _, officer, _, _ = await kazakh_world()
    async with await signed_in(app, officer) as client:
        template = await client.get("/import/template.csv")
    assert template.status_code == 200
    assert template.content.startswith("\ufeff".encode())  # Excel then reads UTF-8
    first_line = template.content.decode("utf-8-sig").splitlines()[0]
    assert first_line.startswith("Толық аты-жөні,Жынысы,Туған күні,Босатылу күні,Жауапты қызметкер")


async def test_row_numbers_are_the_spreadsheets_even_after_blank_rows(app: Starlette) -> None:
    _, officer, _, _ = await kazakh_world()
    content = "Full name,Gender\n\nGood,female\n,,\nBad,dragon\n"
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "list.csv", content.encode())
    assert preview.status_code == 422
    assert 'data-row="5"' in preview.text and 'data-row="3"' not in preview.text


async def test_confirming_twice_adds_the_list_once(app: Starlette) -> None:
    _, officer, _, _ = await kazakh_world()
    content = "Full name,Gender\nOne,female\nTwo,male\n"
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "list.csv", content.encode())
        # A double tap on the button: both requests at once, then once more.
        first, second = await asyncio.gather(confirm(client, preview), confirm(client, preview))
        third = await confirm(client, preview)
    assert {first.status_code, second.status_code, third.status_code} == {303}
    assert await Participant.all().count() == 2
    assert await AuditEvent.filter(action="caseload.imported").count() == 1
    assert "again=1" in third.headers["location"]


async def test_the_largest_file_allowed_goes_through_preview_and_confirmation(
    app: Starlette,
) -> None:
    _, officer, _, _ = await kazakh_world()
    name = "Әсел " + "Қ" * 120  # 125 letters, 249 bytes in UTF-8
    content = ("Full name,Gender\n" + f"{name},female\n" * 2000).encode()
    assert 500_000 < len(content) <= 512 * 1024
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "big.csv", content)
        assert preview.status_code == 200
        done = await confirm(client, preview)
    assert done.status_code == 303, done.text[:300]
    assert await Participant.filter(full_name=name).count() == 2000


async def test_excels_unicode_text_in_utf16_with_tabs(app: Starlette) -> None:
    _, officer, _, _ = await kazakh_world()
    content = "Толық аты-жөні\tЖынысы\nМәди Әлиев\tЕр адам\n".encode("utf-16")
    async with await signed_in(app, officer) as client:
        preview = await upload(client, "list.txt", content, "text/plain")
        assert preview.status_code == 200, preview.text[-2000:]
        assert (await confirm(client, preview)).status_code == 303
    assert (await Participant.get(full_name="Мәди Әлиев")).gender is Gender.MALE
