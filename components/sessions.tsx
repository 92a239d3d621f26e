import type { SessionView } from "../lib/dashboard/sessions.ts";
import { DataTable } from "./ui.tsx";
import { When } from "./time.tsx";

/**
 * "Your sessions": where the user is signed in, with "sign out" for each other session and for
 * all others. The forms post to /settings/account, which returns to `back` (POST → 303 → GET).
 */
export function SessionsList(props: { sessions: SessionView[]; back: "settings" | "account" }) {
  const others = props.sessions.filter((s) => !s.current).length;
  return (
    <>
      <DataTable caption="Where you are signed in">
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last seen</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((s) => (
            <tr key={s.id} data-testid="session-row" data-session-id={s.id}>
              <td data-label="Device">
                {s.device} {s.current && <span class="badge badge-active">This session</span>}
              </td>
              <td data-label="Signed in">
                <When ms={s.created_at} />
              </td>
              <td data-label="Last seen">
                <When ms={s.last_seen_at} />
              </td>
              <td class="actions-cell">
                {!s.current && (
                  <form method="post" action="/settings/account">
                    <input type="hidden" name="intent" value="one" />
                    <input type="hidden" name="session_id" value={s.id} />
                    <input type="hidden" name="back" value={props.back} />
                    <button type="submit" class="button small danger">
                      Sign out<span class="visually-hidden">
                        {s.device} signed in <When ms={s.created_at} />
                      </span>
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {others > 0 && (
        <form method="post" action="/settings/account">
          <input type="hidden" name="intent" value="others" />
          <input type="hidden" name="back" value={props.back} />
          <button type="submit" class="button danger">
            Sign out all other sessions ({others})
          </button>
        </form>
      )}
    </>
  );
}
