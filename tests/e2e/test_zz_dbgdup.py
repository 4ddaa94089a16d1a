from tests.e2e.conftest import login
def test_dbg(new_page, e2e_org):
    from guanxi.customers.services import account_create
    account_create(actor=e2e_org.rep1, data={"name": "北京明达贸易有限公司"})
    page = new_page()
    login(page, "rep1")
    page.on("request", lambda r: print("REQ", r.method, r.url) if "static" not in r.url else None)
    page.on("console", lambda m: print("CONSOLE", m.text[:300]))
    page.goto("/customers/accounts/new/")
    print(page.evaluate("() => htmx.version + ' ' + JSON.stringify(htmx.config)"))
    page.evaluate("() => { ['htmx:eventFilter:error','htmx:syntax:error','htmx:evalDisallowedError','htmx:trigger','htmx:configRequest'].forEach(n => document.body.addEventListener(n, e => console.log('EV', n, e.detail && (e.detail.error||'')))); }")
    page.locator("#record-form input[name=name]").press_sequentially("明达贸易", delay=30)
    page.wait_for_timeout(2000)
    print(page.evaluate("() => JSON.stringify(Object.keys(htmx._ ? {} : {}))"))
