import { useEffect } from "preact/hooks";

/**
 * On a page that answered a form POST, turns its history entry into a plain GET of the same URL,
 * so a reload or Back never sends the form again (no second sign-in email). The POST itself
 * still answers with its page, as clients and tests of it expect. Renders nothing.
 */
export default function ForgetPost() {
  useEffect(() => {
    history.replaceState(history.state, "", location.href);
  }, []);
  return null;
}
