// One part of the every-page audit (tests/e2e/every_page.ts has the pages of each part).
import { everyPageTest } from "./every_page.ts";

everyPageTest("signed-in-more");
