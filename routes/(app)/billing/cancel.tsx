import { Head } from "fresh";
import { define } from "../../../utils.ts";

export default define.page(function Cancelled() {
  return (
    <div class="narrow">
      <Head>
        <title>Payment cancelled · Pipevideo</title>
      </Head>
      <p class="eyebrow">Billing</p>
      <h1>Payment cancelled</h1>
      <p class="lead">Nothing was charged and your balance is unchanged.</p>
      <p>
        <a class="button primary" href="/billing">Back to billing</a>
      </p>
    </div>
  );
});
