// Show this server's own origin in the copy-pasteable examples.
document.querySelectorAll("[data-origin]").forEach((el) => { el.textContent = window.location.origin; });
