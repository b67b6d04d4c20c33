"""A queue's languages, topics and recording policy, set in the admin console and seen in the
widget; a queue deleted in the console while a customer waits in it (issue 14)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import login

W = "otodesk-widget"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_the_admins_topics_languages_and_recording_show_in_the_widget_and_a_deleted_queues_customer_is_moved(
        browser, server):
    admin = login(browser, server, "admin", "/admin")
    admin.get_by_test_id("queue-new").click()
    dialog = admin.get_by_test_id("queue-dialog")
    dialog.get_by_test_id("queue-name").fill("china")
    dialog.get_by_test_id("queue-title").fill("China desk")
    dialog.get_by_test_id("queue-skills").fill("mandarin")  # nobody has it: the customer waits
    dialog.get_by_test_id("queue-languages").fill("zh-CN")
    dialog.get_by_test_id("queue-topics").fill("Payment failed | zh-CN: 付款失败 | zh-TW: 付款失敗\nDelivery")
    dialog.get_by_test_id("queue-recording").select_option("on")
    dialog.get_by_test_id("queue-save").click()
    expect(dialog).to_be_hidden()
    row = admin.get_by_test_id("queue-china")
    expect(row.get_by_test_id("queue-languages-cell")).to_have_text("zh-CN")
    # A topic line the console can't read is said plainly, and nothing is saved.
    row.get_by_test_id("queue-edit").click()
    expect(dialog.get_by_test_id("queue-topics")).to_have_value("Payment failed | zh-CN: 付款失败 | zh-TW: 付款失敗\nDelivery")
    expect(dialog.get_by_test_id("queue-recording")).to_have_value("on")
    dialog.get_by_test_id("queue-topics").fill("Refund | 退款")
    dialog.get_by_test_id("queue-save").click()
    expect(dialog.locator("[data-form-error]")).to_contain_text("Can't read this topic: “Refund | 退款”")
    dialog.locator("[data-close]").click()

    # A customer whose widget speaks Simplified Chinese: the queue that speaks it is chosen, its
    # topics show in Chinese, and they are told calls are recorded.
    context = browser.new_context(locale="en-US")
    shopper = context.new_page()
    shopper.goto(f"{server.base_url}/?locale=zh-CN")
    shopper.locator(f"{W} [data-testid=otodesk-launcher]").click()
    form = shopper.locator(f"{W} [data-testid=otodesk-form]")
    expect(form.locator("[name=queue]")).to_have_value("china")
    topics = shopper.locator(f"{W} [data-testid=otodesk-topic]")
    expect(topics).to_have_text(["付款失败", "Delivery"])
    expect(shopper.locator(f"{W} [data-testid=otodesk-recording]")).to_have_text("与此团队的通话会被录音。")
    topics.first.click()
    expect(form.locator("[name=topic]")).to_have_value("付款失败")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shopper.screenshot(path=str(SHOTS / "widget-queue-topics-zh-CN.png"))
    # Another queue: its own (no) topics, and no word of recording.
    form.locator("[name=queue]").select_option("sales")
    expect(topics).to_have_count(0)
    expect(shopper.locator(f"{W} [data-testid=otodesk-recording]")).to_be_hidden()
    form.locator("[name=queue]").select_option("china")
    form.locator("[name=name]").fill("Mei")
    shopper.locator(f"{W} [data-testid=otodesk-when-now]").check(force=True)
    shopper.locator(f"{W} [data-testid=otodesk-submit]").click()
    expect(shopper.locator(f"{W} [data-testid=otodesk-state]")).to_be_visible()

    # The admin deletes the queue she waits in, choosing where she goes.
    admin.reload()
    admin.get_by_test_id("queue-china").get_by_test_id("queue-delete").click()
    deleting = admin.get_by_test_id("queue-delete-dialog")
    deleting.get_by_test_id("queue-fallback").select_option("support")
    deleting.get_by_test_id("queue-delete-confirm").click()
    expect(deleting).to_be_hidden()
    expect(admin.get_by_test_id("toast").filter(has_text="China desk deleted")).to_contain_text(
        "1 waiting request moved to support")
    expect(admin.get_by_test_id("queue-china")).to_have_count(0)
    expect(admin.get_by_test_id("audit").locator("li").first).to_contain_text("deleted queue China desk")
    expect(admin.get_by_test_id("audit-moved").first).to_have_text("1 waiting request moved to support")
    # Her widget says so, in her language, and she keeps waiting.
    moved = shopper.locator(f"{W} [data-testid=otodesk-moved]")
    expect(moved).to_have_text("您的请求已转至Support，排队位置保持不变。", timeout=5000)
    expect(shopper.locator(f"{W} [data-testid=otodesk-cancel]")).to_be_visible()
    shopper.screenshot(path=str(SHOTS / "widget-queue-moved-zh-CN.png"))
    admin.screenshot(path=str(SHOTS / "admin-queue-deleted.png"), full_page=True)
    context.close()
