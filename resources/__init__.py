"""Resources shipped with tdm-desktop (installed as the package ``tdm_desktop.resources``)."""
