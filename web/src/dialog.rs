//! The confirmation dialog: the native `<dialog>` opened with `showModal()`,
//! so the page behind it is inert and Esc closes it. Focus starts on the
//! dialog's first field when it has one (the password it asks for), else on
//! Cancel, the choice that changes nothing; it goes back to the button that
//! opened the dialog when it closes (named by id: some browsers do not focus
//! a button on click, so what had focus is no guide).

use crate::dom;
use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;

/// A modal question with Cancel and a confirm button. The caller owns `open`:
/// it sets it to open the dialog, and clears it to close the dialog after the
/// confirmed action succeeds. Esc and Cancel clear it too.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn ConfirmDialog(
    /// Element id; the buttons are `{id}-cancel` and `{id}-confirm`.
    id: &'static str,
    /// The id of the button that opens the dialog: focus returns to it.
    opener: &'static str,
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    /// The confirm button's text, naming the action: "Delete alice".
    #[prop(into)]
    confirm_label: Signal<String>,
    /// Whether the confirm button may be pressed yet.
    #[prop(into, default = Signal::stored(true))]
    ready: Signal<bool>,
    /// A request is in flight: the confirm button waits.
    busy: RwSignal<bool>,
    /// Whether the action destroys or takes away (a red confirm button), or
    /// only changes (the usual primary one).
    #[prop(into, default = Signal::stored(true))]
    danger: Signal<bool>,
    /// Runs on confirm (the button, or Enter in a field of the dialog).
    on_confirm: Callback<()>,
    /// The explanation, and any field the confirmation needs.
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let want = open.get();
        let Some(d) = dialog.get() else { return };
        if want && !d.open() {
            let _ = d.show_modal();
            dom::focus_now(&[format!("#{id} input"), format!("#{id}-cancel")]);
        } else if !want && d.open() {
            d.close();
        }
    });
    // While the confirmed action is under way the dialog stays: its outcome
    // shows in it or closes it.
    let cancel = move |ev: leptos::ev::Event| {
        if busy.get_untracked() {
            ev.prevent_default();
        }
    };
    // Esc, Cancel and close() all end here.
    let closed = move |_| {
        open.set(false);
        dom::focus_now(&[format!("#{opener}")]);
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if ready.get_untracked() && !busy.get_untracked() {
            on_confirm.run(());
        }
    };
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <dialog id=id node_ref=dialog aria-labelledby=labelled_by on:close=closed on:cancel=cancel>
            <form on:submit=submit novalidate>
                <h2 id=title_id>{move || title.get()}</h2>
                {children()}
                <div class="dialog-actions">
                    <button id=format!("{id}-cancel") class="secondary" type="button" autofocus
                        disabled=move || busy.get() on:click=move |_| open.set(false)>"Cancel"</button>
                    // Not a BusyButton: its colour follows the action.
                    <button id=format!("{id}-confirm") type="submit"
                        class=move || if danger.get() { "danger" } else { "primary" }
                        disabled=move || !ready.get() aria-disabled=move || busy.get().then_some("true")>
                        {move || confirm_label.get()}
                    </button>
                </div>
            </form>
        </dialog>
    }
}
