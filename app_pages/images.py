"""Image variations: any picture in, made into what the API takes, n variations out."""

import time

import streamlit as st

from components.connection import current_connection, get_client
from components.errors import show_exception
from components.history import OPEN_IMAGE, record_image_run, saved_image_runs
from components.models import model_picker
from components.plain import inert
from components.state import owned
from playground.catalog import load_catalog
from playground.images import (
    ANCHORS,
    SIZES,
    THUMB_SIDE,
    PictureError,
    Preparation,
    create_variations,
    human_bytes,
    load_picture,
    prepare_for_api,
    preview_png,
    result_png,
    results_zip,
    sample_pictures,
    variation_cost,
)

RUNS = "images_runs"  # every run of this session, oldest first
FROM_RESULT = "images_from_result"  # (name, png) of a result chosen as the next source
UPLOADED = "images_uploaded"  # (name, bytes) of the last upload: an uploader forgets its file on a page switch
UPLOAD, SAMPLE, RESULT = "Upload a picture", "Use a sample", "A result"
KEYS = owned("images", fit="crop", anchor="center", focus_x=50, focus_y=50, pad_clear=False, pad_colour="#ffffff",
             n=4, size="512x512", source=SAMPLE, sample=None)


@st.cache_data(max_entries=8, show_spinner="Preparing the picture…")
def prepare(data: bytes, fit: str, anchor: str, focus: tuple[float, float] | None, pad: tuple[int, int, int, int]):
    """(what the file is, notes, a preview of it, the PNG for the API); PictureError for a bad file."""
    picture = load_picture(data)
    prepared = prepare_for_api(picture, Preparation(fit=fit, anchor=anchor, focus=focus, pad_color=pad))
    kind = f"{picture.size[0]}×{picture.size[1]} {picture.format}, {picture.mode}, {human_bytes(picture.byte_count)}"
    return kind, picture.notes, preview_png(picture.image), prepared


def vary(name: str, png: bytes) -> None:  # a button's callback: runs before the widgets are drawn
    st.session_state[FROM_RESULT] = (name, png)
    KEYS.put("source", RESULT)


st.title("Image variations")
if (opened := st.session_state.pop(OPEN_IMAGE, None)) is not None and opened.get("png"):
    # History's "Open in Image variations": its source, model, n and size
    st.session_state[FROM_RESULT] = (opened["name"], opened["png"])
    KEYS.put("source", RESULT)
    if opened.get("n"):
        KEYS.put("n", int(opened["n"]))
    if opened.get("size") in SIZES:
        KEYS.put("size", opened["size"])
    st.session_state["open_with_model:images_model"] = opened["model"]
    st.info(f"Opened from the history: {inert(opened['name'])}." + (f" {inert(opened['note'])}" if opened.get("note") else ""),
            icon=":material/history:")
if RUNS not in st.session_state:  # a new session (a reload): the gallery comes back from the history, as thumbnails
    st.session_state[RUNS] = [
        {"number": number, "source": pictures.source_name, "model": run.model, "size": run.request.get("size", "?"),
         "pngs": pictures.thumbnails, "seconds": run.latency or 0.0, "cost": run.cost, "from_history": True}
        for number, (run, pictures) in enumerate(saved_image_runs(), start=1)
    ]
st.caption(
    "Any picture becomes what the variations endpoint takes (a square PNG under 4 MB), then the model "
    "makes n variations of it. On the local engine they are seeded Pillow transformations: crops, mirrors, "
    "small turns and warps, colour and tone shifts."
)

settings, main = st.columns([1, 2.8], gap="large")
with settings:
    model = model_picker("image_variations", key="images_model")
    if current_connection().provider == "azure":
        st.caption(
            "Azure OpenAI offers no dall-e-2 variations: this page posts to the deployment's "
            "variations path, which the local engine's Azure layout answers; a real Azure "
            "resource answers 'not found'."
        )
    fit = KEYS.widget(st.radio, "Make it square by", "fit", options=["crop", "pad"], horizontal=True,
                      format_func={"crop": "cropping", "pad": "padding"}.get)
    focus, pad = None, (255, 255, 255, 255)
    if fit == "crop":
        anchor = KEYS.widget(st.selectbox, "Keep the part at", "anchor", options=[*ANCHORS, "focal point"])
        if anchor == "focal point":
            across = KEYS.widget(st.slider, "Focal point, across (%)", "focus_x", min_value=0, max_value=100)
            down = KEYS.widget(st.slider, "Focal point, down (%)", "focus_y", min_value=0, max_value=100)
            anchor, focus = "center", (across / 100, down / 100)
    else:
        anchor = "center"
        transparent = KEYS.widget(st.checkbox, "Transparent padding", "pad_clear")
        colour = KEYS.widget(st.color_picker, "Padding colour", "pad_colour", disabled=transparent)
        pad = (*(int(colour[i:i + 2], 16) for i in (1, 3, 5)), 0 if transparent else 255)
    n = KEYS.widget(st.slider, "Variations (n)", "n", min_value=1, max_value=10)
    size = KEYS.widget(st.selectbox, "Size", "size", options=SIZES)
    if model is not None:
        cost = variation_cost(model, size, n)
        if cost is None:
            st.caption(f"No price known for {inert(model.id)}.")
        elif cost == 0:
            st.caption("Free: the local engine runs on this machine.")
        else:
            st.caption(f"Estimated cost: {n} × ${model.image_prices[size]:.3f} = **${cost:.3f}** "
                       f"({model.id}, {size}; prices checked {load_catalog().checked}).")

with main:
    sources = [UPLOAD, SAMPLE] + ([RESULT] if FROM_RESULT in st.session_state else [])
    if KEYS.get("source") not in sources:
        KEYS.put("source", SAMPLE)
    source = KEYS.widget(st.radio, "Picture", "source", options=sources, horizontal=True, label_visibility="collapsed")
    name, data = None, None
    if source == UPLOAD:
        upload = st.file_uploader("A picture: PNG, JPEG, WebP or GIF", type=["png", "jpg", "jpeg", "webp", "gif"],
                                  key="images_upload", on_change=lambda: st.session_state.pop(UPLOADED, None))
        if upload is not None:
            st.session_state[UPLOADED] = (upload.name, upload.getvalue())
        elif UPLOADED in st.session_state:
            st.caption(f"Kept from before: {st.session_state[UPLOADED][0]}. Upload another to replace it.")
        if UPLOADED in st.session_state:
            name, data = st.session_state[UPLOADED]
    elif source == SAMPLE:
        if KEYS.get("sample") not in sample_pictures():
            KEYS.put("sample", next(iter(sample_pictures())))
        name = KEYS.widget(st.selectbox, "Sample", "sample", options=list(sample_pictures()))
        data = sample_pictures()[name]
    else:
        name, data = st.session_state[FROM_RESULT]

    prepared = None
    if data is not None:
        try:
            kind, notes, before, prepared = prepare(data, fit, anchor, focus, pad)
        except PictureError as exc:
            st.error(f"**{name} cannot be used.** {exc}", icon=":material/broken_image:")
        else:
            for note in notes:
                st.info(note, icon=":material/auto_fix_high:")
            left, right = st.columns(2)
            left.image(before, caption=f"Before: {name}, {kind}", width=300)
            right.image(prepared.png, caption=f"After: {prepared.side}×{prepared.side} PNG, {human_bytes(prepared.byte_count)}",
                        width=300)
            right.caption("\n".join(f"- {step}" for step in prepared.steps))

    generate = st.button(f"Generate {n} variation{'s' if n > 1 else ''}", type="primary", icon=":material/auto_awesome:",
                         key="images_generate", disabled=prepared is None or model is None)
    if generate and prepared is not None and model is not None:
        started = time.monotonic()
        try:
            with st.spinner(f"Making {n} variations at {size}…"):
                response = create_variations(get_client(), png=prepared.png, model=model.id, n=n, size=size)
                pngs = [result_png(item) for item in response.data]
        except Exception as exc:  # every SDK or network failure becomes a message
            show_exception(exc)
        else:
            runs = st.session_state.setdefault(RUNS, [])
            runs.append({
                "number": len(runs) + 1, "source": name, "model": model.id, "size": size, "pngs": pngs,
                "seconds": time.monotonic() - started, "cost": variation_cost(model, size, len(pngs)),
            })
            record_image_run(name, prepared.png, model=model.id, n=n, size=size, pngs=pngs, seconds=runs[-1]["seconds"],
                             cost=runs[-1]["cost"])  # with thumbnails and the source: History re-runs and reopens it

    runs = st.session_state.get(RUNS, [])
    if runs:
        st.subheader("Results")
    for run in reversed(runs):
        number = run["number"]
        price = "free" if run["cost"] == 0 else ("price unknown" if run["cost"] is None else f"${run['cost']:.3f}")
        kept = run.get("from_history")
        label = (f"Run {number}: {len(run['pngs'])} × {run['size']} of {run['source']} by {run['model']}, "
                 f"{run['seconds']:.1f} s, {price}" + (" · from the history, thumbnails" if kept else ""))
        with st.expander(label, expanded=number == runs[-1]["number"]):
            if kept:
                st.caption(f"Kept by the history as thumbnails ({THUMB_SIDE} px at most, WebP): the full-size results "
                           "are not kept. History → Re-run makes them again.")
            names = [f"run{number}-{i + 1}.{'webp' if kept else 'png'}" for i in range(len(run["pngs"]))]
            st.download_button("Download all as ZIP", results_zip(list(zip(names, run["pngs"]))),
                               file_name=f"variations-run{number}.zip", mime="application/zip",
                               key=f"images_zip_{number}", on_click="ignore", icon=":material/folder_zip:")
            columns = st.columns(4)
            for i, (file_name, png) in enumerate(zip(names, run["pngs"])):
                with columns[i % 4]:
                    st.image(png, caption=file_name)
                    st.download_button("WebP" if kept else "PNG", png, file_name=file_name,
                                       mime="image/webp" if kept else "image/png", help=f"Download {file_name}",
                                       key=f"images_dl_{number}_{i}", on_click="ignore", icon=":material/download:")
                    st.button("Vary", key=f"images_vary_{number}_{i}", on_click=vary, icon=":material/repeat:",
                              args=(f"{file_name} (run {number})", png), help="Make variations of this result")
