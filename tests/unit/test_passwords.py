"""Password rules: minimum length, the shipped deny-list of common passwords, not the user name."""

from __future__ import annotations

from engine.aftersales.demo import DEMO_PASSWORD
from engine.platform.passwords import MIN_LENGTH
from engine.platform.passwords import common_passwords
from engine.platform.passwords import password_problem


def test_the_deny_list_ships_with_the_package_and_holds_thousands_of_passwords():
    listed = common_passwords()
    assert len(listed) > 5000
    assert {"password", "12345678", "qwertyuiop", "1qaz2wsx", "88888888", "woaini1314"} <= listed
    assert all(len(p) >= MIN_LENGTH for p in listed)


def test_common_short_and_own_name_passwords_are_refused():
    assert password_problem("password", "li.lei") == "is one of the most common passwords; choose another"
    assert password_problem("PassWord", "li.lei") is not None  # case does not help
    assert password_problem("Li.Lei", "li.lei") is not None
    assert password_problem("li.lei.2026", "li.lei.2026") == "must not be the user name"
    assert password_problem("seven77", "li.lei") == f"must be at least {MIN_LENGTH} characters"
    assert password_problem("x" * 257, "li.lei") is not None
    assert password_problem("AfterSales", "li.lei") is not None


def test_good_passwords_pass():
    assert password_problem(DEMO_PASSWORD, "manager") is None
    assert password_problem("lantern-orchid-2027", "li.lei") is None
    assert password_problem("售后服务流程的密码很长", "li.lei") is None
