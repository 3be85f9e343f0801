//! A few helpers over `web-sys`: build elements, find them, listen to them.
//!
//! Text goes in only through [`El::text`] (`textContent`) and attributes
//! through `setAttribute`: nothing the server or another user sends is
//! ever parsed as HTML, so markup in a message stays text.

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{Document, Element, Event};

/// The page's document. The app only runs inside a page.
pub(crate) fn document() -> Document {
    web_sys::window().and_then(|window| window.document()).unwrap_or_else(|| wasm_bindgen::throw_str("no document"))
}

/// The element with this id, as `T`.
pub(crate) fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document().get_element_by_id(id)?.dyn_into().ok()
}

/// The first element matching `selector` below `root`.
pub(crate) fn find<T: JsCast>(root: &Element, selector: &str) -> Option<T> {
    root.query_selector(selector).ok()??.dyn_into().ok()
}

/// Calls `handler` for every `event` on `target`, for as long as the page
/// lives (the closure is handed to the browser for good; use it for
/// elements built once, and event delegation for lists).
pub(crate) fn on(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    closure.forget();
}

/// An element under construction.
pub(crate) struct El(Element);

/// Starts an HTML element.
pub(crate) fn el(tag: &str) -> El {
    El(document().create_element(tag).unwrap_or_else(|_| wasm_bindgen::throw_str("create_element")))
}

/// Starts an SVG element.
pub(crate) fn svg(tag: &str) -> El {
    let made = document().create_element_ns(Some("http://www.w3.org/2000/svg"), tag);
    El(made.unwrap_or_else(|_| wasm_bindgen::throw_str("create_element_ns")))
}

impl El {
    pub(crate) fn attr(self, name: &str, value: &str) -> Self {
        let _ = self.0.set_attribute(name, value);
        self
    }

    pub(crate) fn id(self, id: &str) -> Self {
        self.attr("id", id)
    }

    pub(crate) fn class(self, class: &str) -> Self {
        let _ = self.0.class_list().add_1(class);
        self
    }

    /// Sets the text content: never parsed as markup.
    pub(crate) fn text(self, text: &str) -> Self {
        self.0.set_text_content(Some(text));
        self
    }

    pub(crate) fn child(self, child: impl Into<Element>) -> Self {
        let _ = self.0.append_child(&child.into());
        self
    }

    pub(crate) fn children(self, children: impl IntoIterator<Item = Element>) -> Self {
        for child in children {
            let _ = self.0.append_child(&child);
        }
        self
    }

    pub(crate) fn build(self) -> Element {
        self.0
    }

    /// The element as a `T` (an `HtmlInputElement`, say).
    pub(crate) fn into<T: JsCast>(self) -> T {
        self.0.unchecked_into()
    }
}

impl From<El> for Element {
    fn from(el: El) -> Element {
        el.0
    }
}

/// A label and the control it names, as one `<label>` wrapping both.
pub(crate) fn labelled(label: &str, control: impl Into<Element>) -> Element {
    el("label").child(el("span").text(label)).child(control).build()
}

/// Removes every child of `element`.
pub(crate) fn clear(element: &Element) {
    element.set_text_content(None);
}

/// Sets an element's text by id, if it is there.
pub(crate) fn set_text(id: &str, text: &str) {
    if let Some(element) = by_id::<Element>(id) {
        element.set_text_content(Some(text));
    }
}

/// The `data-room` of the list item whose button has the keyboard focus,
/// so a list that is redrawn can give it back ([`refocus_item`]).
pub(crate) fn focused_item(list: &Element) -> Option<String> {
    let active = document().active_element()?;
    if !list.contains(Some(&active)) {
        return None;
    }
    active.closest("li[data-room]").ok()??.get_attribute("data-room")
}

/// Focuses the button of item `room` again after a redraw.
pub(crate) fn refocus_item(list: &Element, room: Option<String>) {
    let Some(room) = room else { return };
    if let Some(button) = find::<web_sys::HtmlElement>(list, &format!("li[data-room=\"{room}\"] button")) {
        let _ = button.focus();
    }
}
