"""The bottom layer of the portal: what every app needs, importing none of them."""
