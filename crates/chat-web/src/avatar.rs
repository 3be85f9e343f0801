//! The cat avatar, drawn as inline SVG from its breed, coat and mood: no
//! image is downloaded, and nothing but these enums decides what is drawn.

use chat_api::{Avatar, Breed, CatColor, Expression};
use web_sys::Element;

use crate::dom::svg;

/// An `<svg class="avatar">` of `avatar`, `size` pixels square.
pub(crate) fn draw(avatar: Avatar, size: u32) -> Element {
    let (fur, stripe) = coat(avatar.color);
    let label = format!("{} {} cat, {}", avatar.breed, avatar.color, avatar.expression);
    let size = size.to_string();
    let mut parts = vec![
        // Ears, then the head over them.
        path(&ears(avatar.breed), fur).build(),
        shape("ellipse", &[("cx", "50"), ("cy", "56"), ("rx", head_width(avatar.breed)), ("ry", "34")], fur),
    ];
    if let Some(stripe) = stripe {
        parts.push(path("M38 26 L42 38 M50 23 L50 37 M62 26 L58 38", stripe).attr("stroke-width", "4").build());
    }
    if avatar.breed == Breed::Siamese {
        parts.push(shape("ellipse", &[("cx", "50"), ("cy", "66"), ("rx", "18"), ("ry", "14")], "#5b4636"));
    }
    parts.extend(face(avatar.expression));
    svg("svg")
        .class("avatar")
        .attr("viewBox", "0 0 100 100")
        .attr("width", &size)
        .attr("height", &size)
        .attr("role", "img")
        .attr("aria-label", &label)
        .child(svg("title").text(&label))
        .children(parts)
        .build()
}

fn coat(color: CatColor) -> (&'static str, Option<&'static str>) {
    match color {
        CatColor::Orange => ("#e8903a", Some("#b8621d")),
        CatColor::Black => ("#2b2b2b", None),
        CatColor::White => ("#f4f1ea", None),
        CatColor::Grey => ("#8c8f94", Some("#6b6e73")),
        CatColor::Calico => ("#f1e4cf", Some("#c8742c")),
        CatColor::Tortoiseshell => ("#5a3b26", Some("#c77b35")),
        CatColor::Cream => ("#f3dfb8", Some("#e0c08e")),
        CatColor::Brown => ("#7a5230", Some("#5a3a20")),
    }
}

fn ears(breed: Breed) -> String {
    match breed {
        // Small, rounded ears.
        Breed::Persian | Breed::BritishShorthair => "M22 40 L28 18 L42 30 Z M78 40 L72 18 L58 30 Z".to_owned(),
        // Tall, tufted ears.
        Breed::MaineCoon => "M20 42 L24 4 L44 28 Z M80 42 L76 4 L56 28 Z".to_owned(),
        _ => "M20 42 L26 10 L44 28 Z M80 42 L74 10 L56 28 Z".to_owned(),
    }
}

fn head_width(breed: Breed) -> &'static str {
    match breed {
        Breed::Persian | Breed::BritishShorthair => "38",
        Breed::Siamese | Breed::Bengal => "31",
        _ => "34",
    }
}

fn face(expression: Expression) -> Vec<Element> {
    let ink = "#1d1d1d";
    let eyes = match expression {
        Expression::Sleepy => vec![path("M33 52 Q38 56 43 52 M57 52 Q62 56 67 52", "none").attr("stroke", ink).build()],
        Expression::Surprised | Expression::Curious => vec![
            shape("circle", &[("cx", "38"), ("cy", "50"), ("r", "6")], ink),
            shape("circle", &[("cx", "62"), ("cy", "50"), ("r", "6")], ink),
        ],
        Expression::Grumpy => vec![
            path("M31 46 L45 50 M69 46 L55 50", "none").attr("stroke", ink).attr("stroke-width", "3").build(),
            shape("circle", &[("cx", "38"), ("cy", "54"), ("r", "3.5")], ink),
            shape("circle", &[("cx", "62"), ("cy", "54"), ("r", "3.5")], ink),
        ],
        Expression::Happy | Expression::Playful => vec![
            path("M32 53 Q38 46 44 53 M56 53 Q62 46 68 53", "none")
                .attr("stroke", ink)
                .attr("stroke-width", "3")
                .build(),
        ],
    };
    let mouth = match expression {
        Expression::Surprised => shape("circle", &[("cx", "50"), ("cy", "72"), ("r", "4")], ink),
        Expression::Grumpy => path("M42 75 Q50 69 58 75", "none").attr("stroke", ink).attr("stroke-width", "2").build(),
        Expression::Playful => path("M44 70 Q50 80 56 70 Z", "#d9546b").build(),
        _ => path("M42 70 Q46 75 50 70 Q54 75 58 70", "none").attr("stroke", ink).attr("stroke-width", "2").build(),
    };
    let nose = path("M46 62 L54 62 L50 67 Z", "#d98a94").build();
    let whiskers = path("M18 62 L38 65 M18 70 L38 68 M82 62 L62 65 M82 70 L62 68", "none")
        .attr("stroke", "#555")
        .attr("stroke-width", "1.2")
        .build();
    let mut face = eyes;
    face.extend([nose, mouth, whiskers]);
    face
}

fn path(d: &str, fill: &str) -> crate::dom::El {
    svg("path").attr("d", d).attr("fill", fill).attr("stroke-linecap", "round")
}

fn shape(tag: &str, attributes: &[(&str, &str)], fill: &str) -> Element {
    attributes.iter().fold(svg(tag), |el, (name, value)| el.attr(name, value)).attr("fill", fill).build()
}
