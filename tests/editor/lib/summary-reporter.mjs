// A node:test reporter that prints one closing line for the whole run:
// "N passed, N failed" (", N skipped" when any test was skipped).
// Only tests are counted, not the describe() suites that group them; a test
// file that fails outside any test (a crash at load time) counts as failed.
export default async function* summary(source) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for await (const event of source) {
        if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
        const { details = {}, skip, todo } = event.data;
        if (details.type === 'suite') {
            // A suite failing by itself (a before() hook throwing) fails its
            // tests too, which are reported on their own.
            continue;
        }
        if (skip || todo) skipped += 1;
        else if (event.type === 'test:pass') passed += 1;
        else failed += 1;
    }
    yield `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
